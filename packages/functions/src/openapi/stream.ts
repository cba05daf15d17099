import type { ResponseConfig } from "@asteasolutions/zod-to-openapi";
import * as z from "zod";

// Prose for readers; the machine-checkable part is the StreamEvent union and its discriminator mapping.
export const STREAM_DESCRIPTION = [
  "A `text/event-stream` of Server-Sent Events, in Anthropic's Messages streaming order:",
  "",
  "1. `message_start` (the assistant message's id, `conversation_id`, model, input token count)",
  "2. with a reasoning model: `content_block_start` (index 0, `thinking`), `content_block_delta`s with",
  "   `delta.thinking`, `content_block_stop` (index 0); the text block below is then index 1",
  "3. `content_block_start` (empty text block)",
  "4. `content_block_delta`, zero or more (`delta.text` is the next piece of the reply)",
  "5. `content_block_stop`",
  "6. `message_delta` (`stop_reason`: `end_turn`, `max_tokens` or `cancelled`; output token count)",
  "7. `message_stop`",
  "",
  "`ping` may arrive at any time to keep the connection alive. A failure after the stream started is",
  "reported as an `error` event, after which the stream ends. Every event except `ping` and `error` has",
  "an `id:` that strictly increases; it encodes how much of the reply's reasoning and text the client",
  "holds, so `GET …/messages/{message_id}/stream` with that id as `Last-Event-ID` continues exactly",
  "where this stream stopped, on any instance. The reply does not stop when the client disconnects:",
  "stop it with `POST …/messages/{message_id}/cancel`. The SSE `event:` name equals the `type` field",
  "of its `data`, whose schema is the one the StreamEvent discriminator maps that name to. Errors",
  "before the stream starts are ordinary JSON responses.",
].join("\n");

export const streamResponse = (eventSchema: z.ZodType): ResponseConfig => ({
  description: STREAM_DESCRIPTION,
  content: { "text/event-stream": { schema: eventSchema } },
});
