import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { normalizeHeaders } from "./http-util";
import { DEFAULT_STREAM_CONTENT_TYPE, METADATA_PRELUDE_CONTENT_TYPE, PreludeParser, type HttpPrelude } from "./prelude";
import type { LambdaResponseStream, ResponseSink } from "./response-stream";

/**
 * Plays the Function URL front end for one streamed response: if the stream was opened with the prelude
 * content type, hold the first bytes until the metadata is complete and turn it into the status line and
 * headers; otherwise answer 200 with the stream's content type. After that every chunk goes straight to
 * the socket: the hot path below is one null check and `res.write`.
 */
export class FunctionUrlSink implements ResponseSink {
  private parser: PreludeParser | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly extraHeaders: OutgoingHttpHeaders = {},
  ) {}

  /** Connects backpressure: when the socket drains, the handler's stream may write again. */
  attach(stream: LambdaResponseStream): void {
    this.res.on("drain", () => stream.drained());
  }

  open(contentType: string): void {
    if (contentType === METADATA_PRELUDE_CONTENT_TYPE) this.parser = new PreludeParser();
    else this.writeHead(200, { "content-type": contentType });
  }

  write(chunk: Buffer | string, encoding: BufferEncoding): boolean {
    // The client is gone (only seen here when disconnects are hidden from the handler): drop the bytes.
    if (this.res.destroyed) return true;
    if (this.parser === null) return typeof chunk === "string" ? this.res.write(chunk, encoding) : this.res.write(chunk);
    return this.feedPrelude(typeof chunk === "string" ? Buffer.from(chunk, encoding) : chunk);
  }

  close(): void {
    if (this.parser !== null) throw new Error("Response stream ended before the prelude delimiter");
    if (!this.res.destroyed) this.res.end();
  }

  private feedPrelude(chunk: Buffer): boolean {
    const parsed = this.parser!.push(chunk);
    if (parsed === undefined) return true;
    this.parser = null;
    this.writeHead(parsed.prelude.statusCode ?? 200, preludeHeaders(parsed.prelude));
    return parsed.rest.length === 0 ? true : this.res.write(parsed.rest);
  }

  private writeHead(statusCode: number, headers: OutgoingHttpHeaders): void {
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
      throw new Error(`Invalid statusCode in response prelude: ${String(statusCode)}`);
    }
    this.res.writeHead(statusCode, { ...this.extraHeaders, ...headers });
    // Send the status line now: an SSE client should see the response start before the first token.
    this.res.flushHeaders();
  }
}

function preludeHeaders(prelude: HttpPrelude): OutgoingHttpHeaders {
  const headers = normalizeHeaders(prelude.headers, prelude.cookies);
  headers["content-type"] ??= DEFAULT_STREAM_CONTENT_TYPE;
  return headers;
}
