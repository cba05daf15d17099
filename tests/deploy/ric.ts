// AWS's own HttpResponseStream, from the Lambda Node.js runtime interface client published on npm
// (aws-lambda-ric, a devDependency). The package exports only `run`, so the module is taken from its
// bundled dist/index.mjs (the "HttpResponseStream.js" section) and evaluated on its own: the code the
// managed runtime uses to write a streaming response's metadata prelude, byte for byte.
import { readFileSync } from "node:fs";

export interface RicHttpResponseStream {
  from<S extends object>(stream: S, prelude: Record<string, unknown>): S;
}

export function loadRicHttpResponseStream(distFile: string): RicHttpResponseStream {
  const text = readFileSync(distFile, "utf8");
  const m = /"HttpResponseStream\.js"\(exports, module\) \{([\s\S]*?)\n {2}\}\n\}\);/.exec(text);
  if (!m) throw new Error(`HttpResponseStream.js not found in ${distFile}`);
  const module = { exports: {} as { HttpResponseStream?: RicHttpResponseStream } };
  new Function("exports", "module", m[1]!)(module.exports, module);
  if (!module.exports.HttpResponseStream) throw new Error("aws-lambda-ric's HttpResponseStream.js exported nothing");
  return module.exports.HttpResponseStream;
}
