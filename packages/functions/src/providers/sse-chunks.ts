// The chat-completion chunks of a streamed Groq response, parsed with eventsource-parser. groq-sdk's own
// stream reader copies the whole buffer on every network read and decodes lines through several
// generators: about 15 µs per token, the largest share of the app's CPU under 100 concurrent streams
// (bench figure 7's profile). The request, its errors and its status handling stay groq-sdk's; only the
// body is read here, with the same rules as its Stream: `[DONE]` ends it, a chunk carrying `error`
// or an `event: error` message is an APIError.
import Groq from "groq-sdk";
import type { ChatCompletionChunk } from "groq-sdk/resources/chat/completions";
import { createParser, type EventSourceMessage } from "eventsource-parser";

/**
 * Turns the body's bytes into chunks synchronously, one network read at a time, so that the provider's
 * generator reads the body itself: no async generator between the body and the provider, which would
 * cost every token a round of promises of its own.
 */
export class SseChunkReader {
  /** `[DONE]` or an error was seen: the rest of the body is read and ignored. */
  done = false;
  /** An error message arrived: the caller throws it once it has used the chunks before it. */
  failure: InstanceType<typeof Groq.APIError> | null = null;
  private readonly messages: EventSourceMessage[] = [];
  private readonly parser = createParser({ onEvent: (m) => void this.messages.push(m) });
  private readonly decoder = new TextDecoder();
  private readonly out: ChatCompletionChunk[] = [];

  constructor(private readonly headers: Headers) {}

  /** The chunks completed by `bytes`, in order, in an array the next call reuses. */
  feed(bytes: Uint8Array): ChatCompletionChunk[] {
    const out = this.out;
    out.length = 0;
    if (this.done) return out;
    this.parser.feed(this.decoder.decode(bytes, { stream: true }));
    const messages = this.messages;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (m.data.startsWith("[DONE]")) {
        this.done = true;
        break;
      }
      const data = JSON.parse(m.data) as ChatCompletionChunk & { error?: unknown; message?: string };
      if (m.event === "error" || data.error) {
        this.failure = new Groq.APIError(undefined, data.error as object, m.event === "error" ? data.message : undefined, this.headers);
        this.done = true;
        break;
      }
      out.push(data);
    }
    messages.length = 0;
    return out;
  }
}

/** The body's bytes; a Response without a body is the SDK's APIError. */
export function bodyOf(response: Response): AsyncIterable<Uint8Array> {
  if (!response.body) throw new Groq.APIError(undefined, undefined, "The model response has no body", response.headers);
  return response.body as unknown as AsyncIterable<Uint8Array>;
}

/** The chunks one by one: the reader as a generator. */
export async function* sseChunks(response: Response): AsyncGenerator<ChatCompletionChunk> {
  const reader = new SseChunkReader(response.headers);
  // Read to the end of the body even after [DONE] (as groq-sdk does): a body left unread closes the
  // connection, and the next request would pay a new TLS handshake to Groq.
  for await (const bytes of bodyOf(response)) {
    yield* reader.feed(bytes).slice();
    if (reader.failure) throw reader.failure;
  }
}
