// Our local runtime's HttpResponseStream (packages/local) against AWS's own, from the Lambda Node.js
// runtime interface client on npm (aws-lambda-ric): the same content type, the same bytes on the wire
// for the same prelude and body, and both written only at the first body write.
import { finished } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { ricDist } from "./ric-package";
import { HttpResponseStream } from "../../packages/local/src/awslambda-shim";
import { LambdaResponseStream, type ResponseSink } from "../../packages/local/src/response-stream";
import { loadRicHttpResponseStream } from "./ric";

const ric = loadRicHttpResponseStream(ricDist());

function capture() {
  const chunks: Buffer[] = [];
  let contentType = "";
  const sink: ResponseSink = {
    open: (type) => void (contentType = type),
    write: (chunk, encoding) => (chunks.push(typeof chunk === "string" ? Buffer.from(chunk, encoding) : Buffer.from(chunk)), true),
    close: () => {},
  };
  return { stream: new LambdaResponseStream(sink), bytes: () => Buffer.concat(chunks), contentType: () => contentType };
}

async function written(from: (s: LambdaResponseStream, p: Record<string, unknown>) => LambdaResponseStream, prelude: Record<string, unknown>, body: (string | Uint8Array)[]) {
  const c = capture();
  const stream = from(c.stream, prelude);
  const beforeWrite = c.bytes().length;
  for (const part of body) stream.write(part);
  stream.end();
  await finished(stream);
  return { bytes: c.bytes(), contentType: c.contentType(), beforeWrite };
}

describe("the metadata prelude, ours against aws-lambda-ric's HttpResponseStream", () => {
  it.each([
    ["an event stream with cookies", { statusCode: 200, headers: { "content-type": "text/event-stream", "x-request-id": "r1" }, cookies: ["a=1; Secure"] }, ["event: ping\ndata: {}\n\n", "data: ünïcode\n\n"]],
    ["an error with a binary body", { statusCode: 429, headers: { "retry-after": 3 } }, [new Uint8Array([0, 1, 2, 255])]],
    ["an empty prelude", {}, ["x"]],
  ])("%s: same content type, same bytes, written at the first write", async (_, prelude, body) => {
    const ours = await written((s, p) => HttpResponseStream.from(s, p), prelude, body);
    const theirs = await written((s, p) => ric.from(s, p), prelude, body);
    expect(ours.contentType).toBe("application/vnd.awslambda.http-integration-response");
    expect(ours.contentType).toBe(theirs.contentType);
    expect(ours.bytes.equals(theirs.bytes)).toBe(true);
    expect([ours.beforeWrite, theirs.beforeWrite]).toEqual([0, 0]);
  });
});
