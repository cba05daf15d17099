// Bundled by the test and run in a fresh Node process (the Lambda runtime's Node 24): plays the Lambda
// Node.js runtime for built handlers, with the local runtime's `awslambda` global, whose
// HttpResponseStream is replaced by AWS's own (aws-lambda-ric) when RIC_DIST names its dist file.
//   node runner.mjs load <bundle.mjs>...                 → stdout: {"<bundle>": "<handler kind>", …}
//   node runner.mjs stream <bundle.mjs> <event.json> <out.json>
//        one RESPONSE_STREAM invocation; out.json: { node, contentType, body (base64 of every byte) }
import { readFileSync, writeFileSync } from "node:fs";
import { finished } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import { installAwsLambdaGlobal, isStreamingHandler } from "../../packages/local/src/awslambda-shim";
import { createLambdaContext } from "../../packages/local/src/context";
import { LambdaResponseStream, type ResponseSink } from "../../packages/local/src/response-stream";
import { loadRicHttpResponseStream } from "./ric";

// Before any bundle loads: Middy's streamifyResponse reads the global at import time.
installAwsLambdaGlobal();
if (process.env.RIC_DIST)
  Object.assign((globalThis as unknown as { awslambda: object }).awslambda, { HttpResponseStream: loadRicHttpResponseStream(process.env.RIC_DIST) });

const importHandler = async (bundle: string) => ((await import(pathToFileURL(bundle).href)) as { handler: unknown }).handler;

async function load(bundles: string[]): Promise<void> {
  const kinds: Record<string, string> = {};
  for (const bundle of bundles) {
    const handler = await importHandler(bundle);
    kinds[bundle] = isStreamingHandler(handler) ? "streaming" : typeof handler;
  }
  process.stdout.write(JSON.stringify(kinds));
}

async function stream(bundle: string, eventFile: string, outFile: string): Promise<void> {
  const handler = await importHandler(bundle);
  if (!isStreamingHandler(handler)) throw new Error(`${bundle}: handler is not wrapped by awslambda.streamifyResponse`);
  let contentType = "";
  const chunks: Buffer[] = [];
  const sink: ResponseSink = {
    open: (type) => void (contentType = type),
    write: (chunk, encoding) => {
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk, encoding) : Buffer.from(chunk));
      return true;
    },
    close: () => {},
  };
  const responseStream = new LambdaResponseStream(sink);
  const event = JSON.parse(readFileSync(eventFile, "utf8")) as unknown;
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? "stream";
  await handler(event, responseStream, createLambdaContext({ functionName, timeoutMs: 300_000 }));
  // As the runtime does once the handler settles.
  if (!responseStream.writableEnded) responseStream.end();
  await finished(responseStream);
  writeFileSync(outFile, JSON.stringify({ node: process.version, contentType, body: Buffer.concat(chunks).toString("base64") }));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "load") await load(args);
else if (mode === "stream") await stream(args[0]!, args[1]!, args[2]!);
else throw new Error(`unknown mode ${mode}`);
// Lambda freezes the sandbox here; keep-alive sockets must not keep this process up.
process.exit(0);
