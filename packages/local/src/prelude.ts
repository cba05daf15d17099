/**
 * The `application/vnd.awslambda.http-integration-response` framing that a streaming Lambda uses to
 * tell a Function URL its status and headers: JSON metadata, eight NUL bytes, then the body.
 */
export const METADATA_PRELUDE_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";
export const DELIMITER_LEN = 8;

/** Content type of a streamed response that never went through HttpResponseStream.from. */
export const DEFAULT_STREAM_CONTENT_TYPE = "application/octet-stream";

export interface HttpPrelude {
  statusCode?: number;
  headers?: Record<string, string | number | boolean>;
  cookies?: string[];
}

// A handler that announces a prelude but never finishes it must not make us buffer forever.
const MAX_PRELUDE_BYTES = 64 * 1024;

/**
 * Buffers the head of a prelude-framed stream until the delimiter. JSON.stringify never emits a raw NUL
 * (it escapes it as \u0000), so the first NUL byte is where the delimiter starts. Only the first few
 * writes of a response ever pass through here; the body afterwards goes straight to the socket.
 */
export class PreludeParser {
  private buf: Buffer = Buffer.alloc(0);

  /** Undefined while more bytes are needed; then the metadata and whatever body bytes came with it. */
  push(chunk: Buffer): { prelude: HttpPrelude; rest: Buffer } | undefined {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const nul = this.buf.indexOf(0);
    if (nul === -1 || this.buf.length < nul + DELIMITER_LEN) {
      if (this.buf.length > MAX_PRELUDE_BYTES) throw new Error("Response prelude exceeds 64 KiB without a delimiter");
      return undefined;
    }
    for (let i = nul; i < nul + DELIMITER_LEN; i++) {
      if (this.buf[i] !== 0) throw new Error("Malformed response prelude: delimiter is not 8 NUL bytes");
    }
    const prelude = parsePrelude(this.buf.toString("utf8", 0, nul));
    const rest = this.buf.subarray(nul + DELIMITER_LEN);
    this.buf = Buffer.alloc(0);
    return { prelude, rest };
  }

  /** Bytes received so far without a complete prelude. */
  get pending(): number {
    return this.buf.length;
  }
}

function parsePrelude(json: string): HttpPrelude {
  const value: unknown = JSON.parse(json);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error("Malformed response prelude: not a JSON object");
  }
  return value as HttpPrelude;
}
