// The chat-completion chunks of a streamed Groq response, parsed with eventsource-parser. groq-sdk's own
// stream reader copies the whole buffer on every network read and decodes lines through several
// generators: about 15 µs per token, the largest share of the app's CPU under 100 concurrent streams
// (bench figure 7's profile). The request, its errors and its status handling stay groq-sdk's; only the
// body is read here, with the same rules as its Stream: `[DONE]` ends it, a chunk carrying `error`
// or an `event: error` message is an APIError.
import Groq from "groq-sdk";
import type { ChatCompletionChunk } from "groq-sdk/resources/chat/completions";
import { createParser, type EventSourceMessage } from "eventsource-parser";

export async function* sseChunks(response: Response): AsyncGenerator<ChatCompletionChunk> {
  if (!response.body) throw new Groq.APIError(undefined, undefined, "The model response has no body", response.headers);
  const messages: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (m) => void messages.push(m) });
  const decoder = new TextDecoder();
  let done = false;
  // Read to the end of the body even after [DONE] (as groq-sdk does): a body left unread closes the
  // connection, and the next request would pay a new TLS handshake to Groq.
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (done) continue;
    parser.feed(decoder.decode(bytes, { stream: true }));
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (m.data.startsWith("[DONE]")) {
        done = true;
        break;
      }
      const data = JSON.parse(m.data) as ChatCompletionChunk & { error?: unknown; message?: string };
      if (m.event === "error") throw new Groq.APIError(undefined, data.error as object, data.message, response.headers);
      if (data.error) throw new Groq.APIError(undefined, data.error as object, undefined, response.headers);
      yield data;
    }
    messages.length = 0;
  }
}
