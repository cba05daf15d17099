import { PassThrough, Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import {
  HANDLER_HIGHWATERMARK,
  HANDLER_STREAMING,
  HttpResponseStream,
  installAwsLambdaGlobal,
  isStreamingHandler,
  streamifyResponse,
} from "../src/awslambda-shim";
import { DELIMITER_LEN, METADATA_PRELUDE_CONTENT_TYPE, PreludeParser } from "../src/prelude";
import { LambdaResponseStream, type ResponseSink } from "../src/response-stream";

/** A sink that records what reaches "the Lambda service": the content type and the exact bytes. */
function recordingSink() {
  const chunks: Buffer[] = [];
  const sink: ResponseSink & { contentType?: string; closed: boolean; bytes(): Buffer } = {
    closed: false,
    open(contentType) {
      sink.contentType = contentType;
    },
    write(chunk, encoding) {
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk, encoding) : chunk);
      return true;
    },
    close() {
      sink.closed = true;
    },
    bytes: () => Buffer.concat(chunks),
  };
  return sink;
}

const endStream = (s: Writable) => new Promise<void>((resolve, reject) => s.end(() => resolve()).on("error", reject));

describe("awslambda global", () => {
  const g = globalThis as { awslambda?: unknown };
  const original = g.awslambda;
  afterEach(() => {
    g.awslambda = original;
  });

  it("is installed once, and never over a real runtime's global", () => {
    g.awslambda = undefined;
    expect(installAwsLambdaGlobal()).toBe(true);
    const installed = g.awslambda as { streamifyResponse: unknown; HttpResponseStream: unknown };
    expect(installed.streamifyResponse).toBe(streamifyResponse);
    expect(installed.HttpResponseStream).toBe(HttpResponseStream);
    expect(installAwsLambdaGlobal()).toBe(false);

    const real = { streamifyResponse: () => "real" };
    g.awslambda = real;
    expect(installAwsLambdaGlobal()).toBe(false);
    expect(g.awslambda).toBe(real);
  });

  it("completes the empty awslambda object the AWS SDK leaves outside Lambda", () => {
    const sdkStub: Record<string, unknown> = { kept: 1 };
    g.awslambda = sdkStub;
    expect(installAwsLambdaGlobal()).toBe(true);
    expect(g.awslambda).toBe(sdkStub);
    expect(sdkStub).toMatchObject({ kept: 1, streamifyResponse, HttpResponseStream });
  });

  it("streamifyResponse tags the handler the way the runtime does", () => {
    const fn = async () => {};
    const tagged = streamifyResponse(fn, { highWaterMark: 1024 });
    expect(tagged).toBe(fn);
    expect((tagged as unknown as Record<symbol, unknown>)[Symbol.for("aws.lambda.runtime.handler.streaming")]).toBe("response");
    expect((tagged as unknown as Record<symbol, unknown>)[HANDLER_STREAMING]).toBe("response");
    expect((tagged as unknown as Record<symbol, unknown>)[HANDLER_HIGHWATERMARK]).toBe(1024);
    expect(isStreamingHandler(tagged)).toBe(true);
    expect(isStreamingHandler(async () => {})).toBe(false);
  });
});

describe("HttpResponseStream.from", () => {
  const prelude = { statusCode: 201, headers: { "content-type": "text/event-stream" }, cookies: ["a=1"] };

  it("puts JSON metadata and 8 NUL bytes in front of the body on the runtime's stream", async () => {
    const sink = recordingSink();
    const stream = HttpResponseStream.from(new LambdaResponseStream(sink), prelude);
    expect(stream.contentType).toBe(METADATA_PRELUDE_CONTENT_TYPE);
    stream.write("data: 1\n\n");
    await endStream(stream);

    const json = Buffer.from(JSON.stringify(prelude));
    const expected = Buffer.concat([json, Buffer.alloc(DELIMITER_LEN), Buffer.from("data: 1\n\n")]);
    expect(sink.contentType).toBe(METADATA_PRELUDE_CONTENT_TYPE);
    expect(sink.bytes().equals(expected)).toBe(true);
    expect(sink.closed).toBe(true);
  });

  it("defers the prelude to the first write, and content type is fixed from then on", async () => {
    const sink = recordingSink();
    const stream = new LambdaResponseStream(sink);
    HttpResponseStream.from(stream, { statusCode: 200 });
    expect(sink.bytes().length).toBe(0);
    stream.write(new Uint8Array([7]));
    await new Promise((r) => setImmediate(r));
    expect(() => stream.setContentType("text/plain")).toThrow(/too late/);
    await endStream(stream);
    expect(sink.bytes().equals(Buffer.concat([Buffer.from('{"statusCode":200}'), Buffer.alloc(8), Buffer.from([7])]))).toBe(true);
  });

  it("still writes the prelude for a stream ended without a body", async () => {
    const sink = recordingSink();
    await endStream(HttpResponseStream.from(new LambdaResponseStream(sink), { statusCode: 204 }));
    expect(sink.bytes().equals(Buffer.concat([Buffer.from('{"statusCode":204}'), Buffer.alloc(8)]))).toBe(true);
  });

  it("writes the prelude straight into a plain Writable", async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (c: Buffer) => chunks.push(c));
    const stream = HttpResponseStream.from(out, prelude);
    stream.end("body");
    await new Promise((r) => out.on("end", r));
    expect((out as unknown as { contentType: string }).contentType).toBe(METADATA_PRELUDE_CONTENT_TYPE);
    expect(Buffer.concat(chunks).equals(Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(8), Buffer.from("body")]))).toBe(true);
  });
});

describe("PreludeParser", () => {
  it("finds the delimiter across chunk boundaries and returns the body bytes that followed", () => {
    const json = Buffer.from('{"statusCode":418,"headers":{"x":"\\u0000"}}');
    const parser = new PreludeParser();
    expect(parser.push(json.subarray(0, 10))).toBeUndefined();
    expect(parser.push(Buffer.concat([json.subarray(10), Buffer.alloc(3)]))).toBeUndefined();
    const result = parser.push(Buffer.concat([Buffer.alloc(5), Buffer.from("tea")]));
    expect(result?.prelude).toEqual({ statusCode: 418, headers: { x: "\u0000" } });
    expect(result?.rest.toString()).toBe("tea");
  });

  it("rejects a delimiter that is not 8 NUL bytes", () => {
    const parser = new PreludeParser();
    expect(() => parser.push(Buffer.concat([Buffer.from("{}"), Buffer.from([0, 0, 0, 1, 0, 0, 0, 0])]))).toThrow(/Malformed/);
  });
});
