// Bundled by a test and run in a fresh Node process on the Lambda runtime's Node 24 (lambda-node.ts):
// AWS's own runtime interface client (aws-lambda-ric 4.x, whose module RIC_MODULE names) loads and
// invokes built handlers, as the managed nodejs24.x runtime does.
//   node runner.mjs load <functions.json>
//        functions.json: [{ root, handler }] (LAMBDA_TASK_ROOT and _HANDLER of each function)
//        → stdout: {"<handler>": "streaming" | "function", …}, as the runtime classifies each handler
//   node runner.mjs invoke <root> <handler> <events.json> <out.json>
//        the runtime's own invocation loop against a loopback Runtime API that serves the events one by
//        one; out.json: { node, invocations: [{ requestId, kind, contentType, responseMode, body (base64
//        of every byte), errorType }] }. It finishes when the runtime asks for the event after the last
//        one: only then has it awaited the last handler's promise and its response stream's end.
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Invocation } from "./lambda-runner";
import { importRic, type NativeClient } from "./ric";

const ric = await importRic(process.env.RIC_MODULE ?? "");

async function load(functionsFile: string): Promise<void> {
  const functions = JSON.parse(readFileSync(functionsFile, "utf8")) as { root: string; handler: string }[];
  ric.setupGlobals();
  const kinds: Record<string, string> = {};
  for (const { root, handler } of functions) {
    const { metadata } = await ric.UserFunctionLoader.load(root, handler);
    ric.errorOnDeprecatedCallback(metadata);
    kinds[handler] = metadata.streaming ? "streaming" : "function";
  }
  process.stdout.write(JSON.stringify(kinds));
}

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(",") : v);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function invoke(root: string, handler: string, eventsFile: string, outFile: string): Promise<void> {
  const events = JSON.parse(readFileSync(eventsFile, "utf8")) as unknown[];
  const invocations: Invocation[] = [];
  let served = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  // The Runtime API (2018-06-01) as the runtime uses it: next, the streamed response, errors.
  const server = createServer((req, res) => {
    const url = req.url ?? "";
    if (req.method === "GET" && url === "/2018-06-01/runtime/invocation/next") {
      // Past the last event the sandbox would be frozen: the request is left open.
      if (served === events.length) return finish();
      const requestId = `invocation-${served}`;
      res.writeHead(200, {
        "content-type": "application/json",
        "lambda-runtime-aws-request-id": requestId,
        "lambda-runtime-deadline-ms": String(Date.now() + 300_000),
        "lambda-runtime-invoked-function-arn": `arn:aws:lambda:us-east-1:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
      });
      res.end(JSON.stringify(events[served++]));
      return;
    }
    const m = /^\/2018-06-01\/runtime\/(?:invocation\/([^/]+)\/(response|error)|init\/error)$/.exec(url);
    if (req.method === "POST" && m) {
      void readBody(req).then((body) => {
        invocations.push({
          requestId: m[1] ? decodeURIComponent(m[1]) : "",
          kind: m[2] === "response" ? "response" : m[2] === "error" ? "error" : "init-error",
          contentType: header(req.headers["content-type"]),
          responseMode: header(req.headers["lambda-runtime-function-response-mode"]),
          body: body.toString("base64"),
          // A stream that failed after it started reports the error in trailers.
          errorType: req.trailers["lambda-runtime-function-error-type"] ?? header(req.headers["lambda-runtime-function-error-type"]),
        });
        res.writeHead(202).end();
        if (!m[1]) finish();
      });
      return;
    }
    res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");

  Object.assign(process.env, {
    AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    LAMBDA_TASK_ROOT: root,
    _HANDLER: handler,
    // The HTTP Runtime API client (next, streamed responses) instead of the native addon's.
    AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1: "true",
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split(".")[0]}.x`,
    AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME ?? "function",
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1024",
    AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/function",
    AWS_LAMBDA_LOG_STREAM_NAME: "stream",
    AWS_LAMBDA_LOG_FORMAT: "JSON",
  });
  // Buffered results go through the native addon, which is not built here: recorded directly instead.
  const nativeClient: NativeClient = {
    next: () => Promise.reject(new Error("next goes through the HTTP client")),
    done: (requestId, body) => void invocations.push({ requestId: decodeURIComponent(requestId), kind: "response", body: Buffer.from(body).toString("base64") }),
    error: (requestId, body) => void invocations.push({ requestId: decodeURIComponent(requestId), kind: "error", body: Buffer.from(body).toString("base64") }),
  };
  ric
    .createRuntime({ nativeClient })
    .then((runtime) => runtime.start())
    // An init error was posted to the Runtime API (recorded above) before this rejection.
    .catch(() => finish());
  await finished;
  writeFileSync(outFile, JSON.stringify({ node: process.version, invocations }));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "load") await load(args[0]!);
else if (mode === "invoke") await invoke(args[0]!, args[1]!, args[2]!, args[3]!);
else throw new Error(`unknown mode ${mode}`);
// Lambda freezes the sandbox here; the runtime's next request and keep-alive sockets must not keep this process up.
process.exit(0);
