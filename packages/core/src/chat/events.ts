// The event sequence of one reply, shared by the producer (live, token by token) and by resume (replayed
// from the stored row, in whatever pieces the flushes left). Both render through `ReplyEvents`, so both
// give every event the same id, whichever instance serves it.
//
// An event id is one integer derived from two counters: `chars`, the UTF-16 length of reasoning+text
// delivered through this event, and `steps`, how many structural events (message_start, block
// starts/stops, message_delta, message_stop; at most 7) came through it: id = chars * 8 + steps.
// Every event advances one of them, so ids strictly increase; and an id alone says exactly how much of
// the stored reasoning and text a client holds and which block it is in. Resuming after id N sends
// reasoning[from] + text[from] and the structure after it: nothing twice, nothing missed.
import type { FinishReason } from "../schemas";

const STEP_BITS = 8;

export interface Position {
  chars: number;
  steps: number;
}

export const eventId = (p: Position): number => p.chars * STEP_BITS + p.steps;

/** The position an id names; null when it is not one of ours. */
export function parseEventId(id: string): Position | null {
  if (!/^\d{1,15}$/.test(id)) return null;
  const n = Number(id);
  return { chars: Math.floor(n / STEP_BITS), steps: n % STEP_BITS };
}

export interface StartInfo {
  id: string;
  conversation_id: string;
  model: string;
  input_tokens: number;
}

/**
 * Renders a reply's events and tracks its position. With `after`, every event (or part of a delta) at or
 * before that position is left out: the same calls then produce exactly the continuation a client that
 * saw `after` is missing.
 */
export class ReplyEvents {
  private chars = 0;
  private steps = 0;
  /** Characters of reasoning and text rendered so far (what the calls have consumed, written or not). */
  reasoningLength = 0;
  textLength = 0;
  private phase: "idle" | "thinking" | "text" | "done" = "idle";
  private readonly skip: number;

  constructor(private readonly out: (chunk: string) => void, after: Position | null = null) {
    this.skip = after ? eventId(after) : -1;
  }

  get position(): Position {
    return { chars: this.chars, steps: this.steps };
  }

  get ended(): boolean {
    return this.phase === "done";
  }

  start(info: StartInfo): void {
    this.structural(
      "message_start",
      JSON.stringify({
        type: "message_start",
        message: {
          id: info.id,
          type: "message",
          role: "assistant",
          conversation_id: info.conversation_id,
          model: info.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: info.input_tokens, output_tokens: 0 },
        },
      }),
    );
  }

  reasoning(text: string): void {
    if (!text || this.phase === "done" || this.phase === "text") return;
    if (this.phase === "idle") {
      this.phase = "thinking";
      this.structural("content_block_start", '{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}');
    }
    this.reasoningLength += text.length;
    this.delta(text, "thinking_delta", 0);
  }

  text(text: string): void {
    if (!text || this.phase === "done") return;
    this.openText();
    this.textLength += text.length;
    this.delta(text, "text_delta", this.textIndex);
  }

  /** message_delta + message_stop, closing whatever block is open. */
  finish(stopReason: FinishReason, outputTokens: number): void {
    if (this.phase === "done") return;
    this.openText();
    this.structural("content_block_stop", `{"type":"content_block_stop","index":${this.textIndex}}`);
    this.structural(
      "message_delta",
      JSON.stringify({ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } }),
    );
    this.structural("message_stop", '{"type":"message_stop"}');
    this.phase = "done";
  }

  /** An `error` event ends the stream instead (it carries no id: there is nothing after it to resume). */
  error(type: string, message: string): void {
    if (this.phase === "done") return;
    this.phase = "done";
    this.out(`event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message } })}\n\n`);
  }

  private hadThinking = false;
  private get textIndex(): number {
    return this.hadThinking ? 1 : 0;
  }

  private openText(): void {
    if (this.phase === "text") return;
    if (this.phase === "thinking") {
      this.hadThinking = true;
      this.structural("content_block_stop", '{"type":"content_block_stop","index":0}');
    }
    this.phase = "text";
    this.structural("content_block_start", `{"type":"content_block_start","index":${this.textIndex},"content_block":{"type":"text","text":""}}`);
  }

  private structural(name: string, data: string): void {
    this.steps++;
    const id = eventId(this.position);
    if (id > this.skip) this.out(`id: ${id}\nevent: ${name}\ndata: ${data}\n\n`);
  }

  // The per-token hot path: a template instead of building and serialising an object.
  private delta(text: string, kind: "text_delta" | "thinking_delta", index: number): void {
    const start = this.chars;
    this.chars += text.length;
    const id = this.chars * STEP_BITS + this.steps;
    if (id <= this.skip) return;
    // A client that stopped inside this delta gets the rest of it.
    const from = this.skip < 0 ? 0 : Math.floor(this.skip / STEP_BITS) - start;
    const part = from > 0 ? text.slice(from) : text;
    const field = kind === "text_delta" ? "text" : "thinking";
    this.out(
      `id: ${id}\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"${kind}","${field}":${JSON.stringify(part)}}}\n\n`,
    );
  }
}

export const PING = 'event: ping\ndata: {"type":"ping"}\n\n';
