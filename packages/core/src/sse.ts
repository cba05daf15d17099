import type { StreamEventData, StreamEventName } from "./schemas/stream-events";

/**
 * Serialises the stream's events. Every event but `ping` carries an `id:` that increases from 1, so a
 * client can tell how far it got. One encoder per stream.
 */
export class SseEncoder {
  private nextId = 1;

  event<N extends StreamEventName>(name: N, data: StreamEventData<N>): string {
    if (name === "ping" || name === "error") return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    return `id: ${this.nextId++}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  /** The per-token hot path: a template instead of building and serialising an object. */
  textDelta(text: string, index: 0 | 1 = 0): string {
    return `id: ${this.nextId++}\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${JSON.stringify(text)}}}\n\n`;
  }

  /** A reasoning delta: always the thinking block, index 0. */
  thinkingDelta(thinking: string): string {
    return `id: ${this.nextId++}\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":${JSON.stringify(thinking)}}}\n\n`;
  }

  ping(): string {
    return PING;
  }
}

const PING = 'event: ping\ndata: {"type":"ping"}\n\n';
