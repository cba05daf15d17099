// The following phase: a client that is not the producer's (a resume, an idempotent retry) reads the
// reply from the database. It replays what is stored after the client's position, then polls at the
// flush interval for more until the reply ends. Any instance can serve it.
import type { StoredReply } from "../ports";
import { ErrorType } from "../schemas";
import { PING, ReplyEvents, type Position } from "./events";
import { leadingServerTools, replayToolText } from "./tool-stream";
import type { ReplyDeps, ReplyEvent } from "./types";

export interface FollowOptions {
  /** The client's last event id, decoded; null for the whole reply from message_start. */
  after: Position | null;
  /** Stop following (end the stream without message_stop, so the client resumes) after this long. */
  maxDurationMs: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

/** Emits the stored row's state through `ev`: only what `ev` has not consumed yet. */
export function renderRow(ev: ReplyEvents, row: StoredReply): void {
  ev.reasoning(row.reasoning.slice(ev.reasoningLength));
  // The server tools the reply used come between its thinking and its text (events.ts).
  replayToolText(leadingServerTools((row.tool_text ?? "").slice(ev.toolTextLength)), ev);
  ev.text(row.content.slice(ev.textLength));
  replayToolText((row.tool_text ?? "").slice(ev.toolTextLength), ev);
  switch (row.finish_reason) {
    case null:
      return;
    case "error": {
      const e = row.metadata.error as { type?: unknown; message?: unknown } | undefined;
      const type = ErrorType.safeParse(e?.type);
      ev.error(type.success ? type.data : "api_error", typeof e?.message === "string" ? e.message : "The reply failed");
      return;
    }
    default:
      ev.finish(row.finish_reason, row.token_count ?? 0);
  }
}

/**
 * Streams `first` (already read) and then the row as it grows. `signal` aborts when the client leaves,
 * where the runtime reports it. Returns when the reply ended, the client left, or time ran out.
 */
export async function followReply(
  deps: ReplyDeps,
  first: StoredReply,
  opts: FollowOptions,
  emit: (event: ReplyEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const { store, settings } = deps;
  let emittedAt = performance.now();
  const ev = new ReplyEvents((event) => {
    emittedAt = performance.now();
    emit(event);
  }, opts.after);
  ev.start({ id: first.id, conversation_id: first.conversation_id, model: first.model ?? "", input_tokens: first.input_tokens ?? 0 });
  const until = performance.now() + opts.maxDurationMs;
  let row: StoredReply | null = first;
  for (;;) {
    renderRow(ev, row);
    if (ev.ended || signal.aborted || performance.now() >= until) return;
    if (performance.now() - emittedAt >= settings.PING_INTERVAL_MS) {
      emittedAt = performance.now();
      emit(PING);
    }
    await sleep(settings.FLUSH_INTERVAL_MS, signal);
    if (signal.aborted) return;
    row = await store.getReply(first.id, settings.REPLY_STALE_MS);
    // Deleted with its conversation while we followed: nothing more will come.
    if (!row) return ev.error("not_found_error", "The reply no longer exists");
  }
}
