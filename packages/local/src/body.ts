import type { IncomingMessage } from "node:http";

/** API Gateway's hard cap on a request payload; the API's own, smaller limit is the handlers' job. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export class PayloadTooLargeError extends Error {
  constructor(limit: number) {
    super(`Request body exceeds ${limit} bytes`);
    this.name = "PayloadTooLargeError";
  }
}

export class RequestAbortedError extends Error {
  constructor() {
    super("Client aborted the request");
    this.name = "RequestAbortedError";
  }
}

const EMPTY = Buffer.alloc(0);

/** Reads the whole request body, refusing it as soon as it is known to exceed `limit`. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> | Buffer {
  // Without Content-Length or Transfer-Encoding a request has no body (RFC 9112 §6.3); Node discards
  // the (empty) stream once the response ends.
  if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined) return EMPTY;
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > limit) {
      req.resume();
      return reject(new PayloadTooLargeError(limit));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        reject(new PayloadTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once("error", () => reject(new RequestAbortedError()));
    req.once("close", () => {
      if (!req.complete) reject(new RequestAbortedError());
    });
  });
}
