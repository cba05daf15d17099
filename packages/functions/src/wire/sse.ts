// Our stream on the wire: the reply's typed events (core's ReplyEvent) as Server-Sent Events, one
// `id:` (when the event has one), `event:` and `data:` (the payload's JSON) each, in Anthropic's
// Messages streaming format. Ping and error carry no id, so a client's Last-Event-ID stays at the last
// event it can resume after. JSON escapes every line break, so a payload always fits one `data:` line.
import type { ReplyEvent, ReplyStream } from "@conversation-api/core";
import type { StreamBody } from "../http";

export const SSE_HEADERS: Record<string, string> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};

const PING_FRAME = 'event: ping\ndata: {"type":"ping"}\n\n';

/**
 * One event as SSE text. Deltas (one per token) take a template rather than serialising their object:
 * the same bytes (the payload's keys in the order the schema lists them), one string built. It reads
 * the event at once, as the reply loop's reuse of delta objects asks.
 */
export function encodeSse(event: ReplyEvent): string {
  switch (event.type) {
    case "content_block_delta": {
      const { index, delta } = event.data;
      return delta.type === "text_delta"
        ? `id: ${event.id}\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${JSON.stringify(delta.text)}}}\n\n`
        : delta.type === "thinking_delta"
          ? `id: ${event.id}\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"thinking_delta","thinking":${JSON.stringify(delta.thinking)}}}\n\n`
          : `id: ${event.id}\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(delta.partial_json)}}}\n\n`;
    }
    case "ping":
      return PING_FRAME;
    case "error":
      return `event: error\ndata: ${JSON.stringify(event.data)}\n\n`;
    default:
      return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
  }
}

/** A streaming route's answer for a reply: the SSE headers, and its events encoded as they come. */
export const sseBody = (reply: ReplyStream): StreamBody => ({
  headers: SSE_HEADERS,
  run: (write, signal, end) => reply.run((event) => write(encodeSse(event)), signal, end),
});

/** A streaming route's answer that is one JSON document (a wire format's non-streamed reply, its lists). */
export const jsonStreamBody = (value: unknown, headers: Record<string, string> = {}): StreamBody => ({
  headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  run: async (write) => write(JSON.stringify(value)),
});
