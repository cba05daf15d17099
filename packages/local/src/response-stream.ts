import { Writable } from "node:stream";
import type { PreludeCapableStream } from "./awslambda-shim";
import { DEFAULT_STREAM_CONTENT_TYPE } from "./prelude";

type Callback = (error?: Error | null) => void;

/** Where the bytes a streaming handler writes go (the "Lambda service" side of the stream). */
export interface ResponseSink {
  /** Called once, just before the first byte, with the content type the handler settled on. */
  open(contentType: string): void;
  /** Takes one chunk; returns false to hold the handler back until the stream's `drained()` is called. */
  write(chunk: Buffer | string, encoding: BufferEncoding): boolean;
  /** The handler ended the stream. */
  close(): void;
}

/**
 * The `responseStream` a streamified handler receives, modelled on the runtime's: a Writable with
 * `setContentType` (allowed until the first byte) and the `_onBeforeFirstWrite` hook that
 * `HttpResponseStream.from` installs to put the prelude in front of the body.
 *
 * `decodeStrings: false` lets string chunks (SSE text) reach the socket without an intermediate Buffer.
 */
export class LambdaResponseStream extends Writable implements PreludeCapableStream {
  contentType = DEFAULT_STREAM_CONTENT_TYPE;
  _onBeforeFirstWrite: ((write: (chunk: string | Uint8Array) => void) => void) | undefined;
  private opened = false;
  private waiting: Callback | null = null;

  constructor(
    private readonly sink: ResponseSink,
    highWaterMark?: number,
  ) {
    super(highWaterMark === undefined ? { decodeStrings: false } : { decodeStrings: false, highWaterMark });
  }

  setContentType(contentType: string): void {
    if (this.opened) throw new Error("Cannot set content-type, too late.");
    this.contentType = contentType;
  }

  /** The sink can take more bytes again. */
  drained(): void {
    const cb = this.waiting;
    if (cb !== null) {
      this.waiting = null;
      cb();
    }
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, cb: Callback): void {
    try {
      if (!this.opened) this.open();
      if (this.sink.write(chunk, encoding)) cb();
      else this.waiting = cb;
    } catch (e) {
      cb(e as Error);
    }
  }

  override _final(cb: Callback): void {
    try {
      // The runtime only fires the prelude hook on a write; we also fire it for a body-less end() so a
      // handler that sets a status but writes nothing still gets its status locally.
      if (!this.opened) this.open();
      this.sink.close();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  private open(): void {
    this.opened = true;
    this.sink.open(this.contentType);
    const hook = this._onBeforeFirstWrite;
    if (hook) hook((c) => void this.sink.write(typeof c === "string" ? c : toBuffer(c), "utf8"));
  }
}

const toBuffer = (c: Uint8Array): Buffer => (Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength));
