// Our local runtime's HttpResponseStream (packages/local) against AWS's own runtime (aws-lambda-ric
// 4.x, what nodejs24.x runs, on the Lambda Node binary): the same content type and the same bytes for
// the same prelude and body. AWS's side is what its response stream sends to the Runtime API from a
// handler that uses the runtime's own awslambda.HttpResponseStream; ours writes nothing before the
// first body write, as the runtime's hook does.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpResponseStream } from "../../packages/local/src/awslambda-shim";
import { LambdaResponseStream, type ResponseSink } from "../../packages/local/src/response-stream";
import { lambdaNode } from "./lambda-node";
import { buildRunner, runRunner, type Invocation } from "./lambda-runner";

type Part = string | Uint8Array;
const CASES: [string, Record<string, unknown>, Part[]][] = [
  ["an event stream with cookies", { statusCode: 200, headers: { "content-type": "text/event-stream", "x-request-id": "r1" }, cookies: ["a=1; Secure"] }, ["event: ping\ndata: {}\n\n", "data: ünïcode\n\n"]],
  ["an error with a binary body", { statusCode: 429, headers: { "retry-after": 3 } }, [new Uint8Array([0, 1, 2, 255])]],
  ["an empty prelude", {}, ["x"]],
];

const work = mkdtempSync(join(tmpdir(), "ric-prelude-test-"));
let theirs: Invocation[];

beforeAll(async () => {
  const node = lambdaNode();
  const runner = join(work, "runner.mjs");
  await buildRunner(runner);
  const events = CASES.map(([, prelude, body]) => ({
    prelude,
    body: body.map((p) => (typeof p === "string" ? { text: p } : { base64: Buffer.from(p).toString("base64") })),
  }));
  writeFileSync(join(work, "events.json"), JSON.stringify(events));
  const fixtures = fileURLToPath(new URL("./fixtures", import.meta.url));
  await runRunner(node, runner, ["invoke", fixtures, "prelude-handler.handler", join(work, "events.json"), join(work, "out.json")]);
  theirs = (JSON.parse(readFileSync(join(work, "out.json"), "utf8")) as { invocations: Invocation[] }).invocations;
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

async function ours(prelude: Record<string, unknown>, body: Part[]) {
  const chunks: Buffer[] = [];
  let contentType = "";
  const sink: ResponseSink = {
    open: (type) => void (contentType = type),
    write: (chunk, encoding) => (chunks.push(typeof chunk === "string" ? Buffer.from(chunk, encoding) : Buffer.from(chunk)), true),
    close: () => {},
  };
  const stream = HttpResponseStream.from(new LambdaResponseStream(sink), prelude);
  const beforeWrite = chunks.length;
  for (const part of body) stream.write(part);
  stream.end();
  await finished(stream);
  return { bytes: Buffer.concat(chunks), contentType, beforeWrite };
}

describe("the metadata prelude, ours against aws-lambda-ric 4.x's runtime", () => {
  it("answered every invocation as a stream, in order, without an error", () => {
    expect(theirs.map((i) => [i.requestId, i.kind, i.responseMode, i.errorType])).toEqual(CASES.map((_, n) => [`invocation-${n}`, "response", "streaming", undefined]));
  });

  it.each(CASES.map((c, n) => [...c, n] as const))("%s: same content type, same bytes, nothing before the first write", async (_, prelude, body, n) => {
    const mine = await ours(prelude, body);
    const aws = theirs[n]!;
    expect(mine.contentType).toBe("application/vnd.awslambda.http-integration-response");
    expect(mine.contentType).toBe(aws.contentType);
    expect(mine.bytes.toString("base64")).toBe(aws.body);
    expect(mine.beforeWrite).toBe(0);
  });
});
