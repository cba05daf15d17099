import type { Writable } from "node:stream";
import { DELIMITER_LEN, METADATA_PRELUDE_CONTENT_TYPE } from "./prelude";

/**
 * The `awslambda` global that the Lambda Node.js runtime provides and that Middy's
 * `middy({ streamifyResponse: true })` calls at import time. Mirrors the runtime interface client:
 * `streamifyResponse` only tags the handler (the runtime decides how to call it by the tag), and
 * `HttpResponseStream.from` arranges for the metadata prelude to be written just before the first body
 * byte, switching the stream's content type to the prelude type.
 */

export const HANDLER_STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
export const HANDLER_HIGHWATERMARK = Symbol.for("aws.lambda.runtime.handler.streaming.highWaterMark");
export const STREAM_RESPONSE = "response";

type RawWrite = (chunk: string | Uint8Array) => void;

/** What the runtime's response stream offers beyond Writable; our LambdaResponseStream implements it. */
export interface PreludeCapableStream extends Writable {
  setContentType(contentType: string): void;
  _onBeforeFirstWrite?: (write: RawWrite) => void;
}

export interface StreamifyOptions {
  highWaterMark?: number;
}

export type StreamingHandler = ((event: unknown, responseStream: Writable, context: unknown) => unknown) & {
  [HANDLER_STREAMING]?: string;
  [HANDLER_HIGHWATERMARK]?: number;
};

export function streamifyResponse<F extends (...args: never[]) => unknown>(handler: F, options?: StreamifyOptions): F {
  const tagged = handler as unknown as Record<symbol, unknown>;
  tagged[HANDLER_STREAMING] = STREAM_RESPONSE;
  if (typeof options?.highWaterMark === "number") tagged[HANDLER_HIGHWATERMARK] = Math.trunc(options.highWaterMark);
  return handler;
}

export function isStreamingHandler(handler: unknown): handler is StreamingHandler {
  return typeof handler === "function" && (handler as StreamingHandler)[HANDLER_STREAMING] === STREAM_RESPONSE;
}

export class HttpResponseStream {
  static from<W extends Writable>(underlyingStream: W, prelude: Record<string, unknown>): W {
    // JSON.stringify is what guarantees no NUL byte inside the metadata.
    const metadataPrelude = JSON.stringify(prelude);
    const stream = underlyingStream as W & Partial<PreludeCapableStream> & { contentType?: string };
    if (typeof stream.setContentType === "function") {
      stream.setContentType(METADATA_PRELUDE_CONTENT_TYPE);
      stream._onBeforeFirstWrite = (write) => {
        write(metadataPrelude);
        write(new Uint8Array(DELIMITER_LEN));
      };
    } else {
      // Not a runtime stream (e.g. a plain Writable in a test): there is no first-write hook to use, so
      // record the content type as a property and write the prelude now, ahead of any body write.
      stream.contentType = METADATA_PRELUDE_CONTENT_TYPE;
      stream.write(metadataPrelude);
      stream.write(new Uint8Array(DELIMITER_LEN));
    }
    return underlyingStream;
  }
}

export interface AwsLambdaGlobal {
  streamifyResponse: typeof streamifyResponse;
  HttpResponseStream: typeof HttpResponseStream;
}

/**
 * Defines `globalThis.awslambda` unless a real runtime already did. Must run before any handler module
 * is imported, because Middy reads the global while the module is being evaluated.
 * Returns true when this call installed the shim.
 */
export function installAwsLambdaGlobal(): boolean {
  const g = globalThis as { awslambda?: Partial<AwsLambdaGlobal> & Record<string, unknown> };
  if (typeof g.awslambda?.streamifyResponse === "function") return false;
  // The AWS SDK (@aws/lambda-invoke-store) leaves an empty `awslambda` object behind when loaded
  // outside Lambda; complete that object rather than replace what the SDK keeps on it.
  if (g.awslambda) {
    Object.assign(g.awslambda, { streamifyResponse, HttpResponseStream });
    return true;
  }
  const awslambda: AwsLambdaGlobal = { streamifyResponse, HttpResponseStream };
  Object.defineProperty(globalThis, "awslambda", { value: awslambda, writable: true, configurable: true, enumerable: false });
  return true;
}
