// The event sequence of one reply, shared by the producer (live, token by token) and by resume (replayed
// from the stored row, in whatever pieces the flushes left). Both emit through `ReplyEvents`, so both
// give every event the same id, whichever instance serves it. The events are typed (types.ts:
// ReplyEvent); the edge encodes them in a wire format.
//
// An event id is one integer derived from two counters: `chars`, the UTF-16 length of reasoning, text
// and tool input delivered through this event, plus one for each tool block's start and stop, and
// `steps`, how many other structural events (message_start, the thinking and text blocks' starts and
// stops, message_delta, message_stop; at most 7) came through it: id = chars * 8 + steps. Every event
// advances one of them, so ids strictly increase; and an id alone says exactly how much of the stored
// reply a client holds and which block it is in. Resuming after id N sends the rest of what is stored
// and the structure after it: nothing twice, nothing missed. (A tool block's start and stop count as
// characters so that any number of tool calls fit the 7 steps; so do a server tool's two blocks.)
import type { ErrorType, FinishReason, ServerToolResultBlock, ServerToolUseBlock, StreamEventData, StreamEventName } from "../schemas";
import { toolHeader } from "./tool-stream";
import type { ReplyEvent } from "./types";

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

type DeltaEvent = Extract<ReplyEvent, { type: "content_block_delta" }>;
/** The events that advance `steps` (or, for a tool block, `chars`). */
type Structural = Exclude<StreamEventName, "content_block_delta" | "ping" | "error">;

const deltaEvent = (delta: DeltaEvent["data"]["delta"]): DeltaEvent => ({
  type: "content_block_delta",
  id: 0,
  data: { type: "content_block_delta", index: 0, delta },
});

/** Keep-alive while nothing else is sent; it carries no id, so a client's position stays where it was. */
export const PING: Extract<ReplyEvent, { type: "ping" }> = { type: "ping", id: null, data: { type: "ping" } };

/**
 * Emits a reply's events and tracks its position. With `after`, every event (or part of a delta) at or
 * before that position is left out: the same calls then produce exactly the continuation a client that
 * saw `after` is missing.
 */
export class ReplyEvents {
  private chars = 0;
  private steps = 0;
  /** Characters of reasoning, text and tool text (tool-stream.ts) consumed so far, sent or not. */
  reasoningLength = 0;
  textLength = 0;
  toolTextLength = 0;
  private phase: "idle" | "thinking" | "server" | "text" | "tool" | "done" = "idle";
  /** The open block's index. */
  private index = 0;
  private readonly skip: number;
  // The per-token hot path allocates nothing: one event object per kind of delta, rewritten for each
  // delta (the consumer reads it before the next one is emitted: see ReplyEvent).
  private readonly textPart = { type: "text_delta" as const, text: "" };
  private readonly thinkingPart = { type: "thinking_delta" as const, thinking: "" };
  private readonly inputPart = { type: "input_json_delta" as const, partial_json: "" };
  private readonly textDelta = deltaEvent(this.textPart);
  private readonly thinkingDelta = deltaEvent(this.thinkingPart);
  private readonly inputDelta = deltaEvent(this.inputPart);

  constructor(private readonly emit: (event: ReplyEvent) => void, after: Position | null = null) {
    this.skip = after ? eventId(after) : -1;
  }

  get position(): Position {
    return { chars: this.chars, steps: this.steps };
  }

  get ended(): boolean {
    return this.phase === "done";
  }

  start(info: StartInfo): void {
    this.structural("message_start", {
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
    });
  }

  reasoning(text: string): void {
    if (!text || this.phase !== "idle" && this.phase !== "thinking") return;
    if (this.phase === "idle") {
      this.phase = "thinking";
      this.structural("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } });
    }
    this.reasoningLength += text.length;
    const part = this.advance(text);
    if (part === null) return;
    this.thinkingPart.thinking = part;
    this.emitDelta(this.thinkingDelta);
  }

  /**
   * A server tool the provider ran: its use and its result, two blocks that arrive whole (each a start
   * and a stop). They follow the thinking and come before the text: one after the text or a tool call
   * is left out (the reply loop leaves it out of the stored reply too).
   */
  serverTool(use: ServerToolUseBlock, result: ServerToolResultBlock, length: number): void {
    if (this.phase !== "idle" && this.phase !== "thinking" && this.phase !== "server") return;
    this.toolTextLength += length;
    if (this.phase === "thinking") this.structural("content_block_stop", { type: "content_block_stop", index: this.index });
    if (this.phase !== "idle") this.index++;
    this.phase = "server";
    this.toolStep({ type: "content_block_start", index: this.index, content_block: use });
    this.toolStep({ type: "content_block_stop", index: this.index });
    this.index++;
    this.toolStep({ type: "content_block_start", index: this.index, content_block: result });
    this.toolStep({ type: "content_block_stop", index: this.index });
  }

  /** Text after a tool call is left out: the blocks' order is thinking, server tools, text, tools. */
  text(text: string): void {
    if (!text || this.phase === "done" || this.phase === "tool") return;
    this.openText();
    this.textLength += text.length;
    const part = this.advance(text);
    if (part === null) return;
    this.textPart.text = part;
    this.emitDelta(this.textDelta);
  }

  /** A tool call's block opens (closing the block before it). */
  toolStart(id: string, name: string): void {
    if (this.phase === "done") return;
    this.toolTextLength += toolHeader(id, name).length;
    if (this.phase === "tool") this.toolStep({ type: "content_block_stop", index: this.index });
    else if (this.phase !== "idle" && this.phase !== "server") this.structural("content_block_stop", { type: "content_block_stop", index: this.index });
    if (this.phase !== "idle") this.index++;
    this.phase = "tool";
    this.toolStep({ type: "content_block_start", index: this.index, content_block: { type: "tool_use", id, name, input: {} } });
  }

  /** A piece of the open tool call's input JSON; nothing without one. */
  toolInput(json: string): void {
    if (!json || this.phase !== "tool") return;
    this.toolTextLength += json.length;
    const part = this.advance(json);
    if (part === null) return;
    this.inputPart.partial_json = part;
    this.emitDelta(this.inputDelta);
  }

  /** message_delta + message_stop, closing whatever block is open (a reply always has a block). */
  finish(stopReason: FinishReason, outputTokens: number): void {
    if (this.phase === "done") return;
    if (this.phase === "tool") this.toolStep({ type: "content_block_stop", index: this.index });
    else {
      this.openText();
      this.structural("content_block_stop", { type: "content_block_stop", index: this.index });
    }
    this.structural("message_delta", {
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: outputTokens },
    });
    this.structural("message_stop", { type: "message_stop" });
    this.phase = "done";
  }

  /** An `error` event ends the stream instead (it carries no id: there is nothing after it to resume). */
  error(type: ErrorType, message: string): void {
    if (this.phase === "done") return;
    this.phase = "done";
    this.emit({ type: "error", id: null, data: { type: "error", error: { type, message } } });
  }

  private openText(): void {
    if (this.phase === "text") return;
    if (this.phase === "thinking") {
      this.structural("content_block_stop", { type: "content_block_stop", index: this.index });
      this.index++;
    } else if (this.phase === "server") this.index++;
    this.phase = "text";
    this.structural("content_block_start", { type: "content_block_start", index: this.index, content_block: { type: "text", text: "" } });
  }

  /** A tool block's start or stop: it advances `chars` by one rather than `steps`. */
  private toolStep(data: StreamEventData<"content_block_start"> | StreamEventData<"content_block_stop">): void {
    this.chars++;
    const id = eventId(this.position);
    if (id > this.skip) this.emit({ type: data.type, id, data } as ReplyEvent);
  }

  /** Emits a structural event (one step), with its id, unless the client has it already. */
  private structural<N extends Structural>(type: N, data: StreamEventData<N>): void {
    this.steps++;
    const id = eventId(this.position);
    // TypeScript cannot tie `type` to `data` through N; the signature does.
    if (id > this.skip) this.emit({ type, id, data } as ReplyEvent);
  }

  /** Advances past a delta's text; what of it the client is missing (null: nothing). */
  private advance(text: string): string | null {
    const start = this.chars;
    this.chars += text.length;
    if (this.chars * STEP_BITS + this.steps <= this.skip) return null;
    // A client that stopped inside this delta gets the rest of it.
    const from = this.skip < 0 ? 0 : Math.floor(this.skip / STEP_BITS) - start;
    return from > 0 ? text.slice(from) : text;
  }

  private emitDelta(event: DeltaEvent): void {
    event.id = this.chars * STEP_BITS + this.steps;
    event.data.index = this.index;
    this.emit(event);
  }
}
