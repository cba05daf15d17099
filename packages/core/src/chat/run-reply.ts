// The producing phase of a reply: calls the model, streams its events to the one client that asked,
// and keeps the stored row up to date (through the Flusher) so that any other client can follow it
// from the database. Ends on the model's finish, a cancel (asked through the database, or a client
// disconnect where the runtime reports one and DISCONNECT_CANCELS is on), the timeouts, or the
// total-duration cap, and stores the reply however it ended.
import { AppError, toPublicError } from "../errors";
import type { CompletionEvent } from "../ports";
import type { Message } from "../schemas";
import { PING, ReplyEvents } from "./events";
import { Flusher } from "./flusher";
import { callModel } from "./model-call";
import { replyRecord, loadCounter, settleReservation } from "./record";
import type { ReplyDeps, ReplyEvent, ReplyOutcome, ReplyPlan, ReplyRequest } from "./types";

type Finish = Extract<CompletionEvent, { type: "finish" }>;

/** Abort reasons that are not failures: the reply was asked to stop. */
export const CANCELLED = Symbol("cancelled");

/** Wait before the second try of a failed final write. */
const FINAL_WRITE_RETRY_MS = 200;

export async function runReply(
  deps: ReplyDeps,
  req: ReplyRequest,
  plan: ReplyPlan,
  emit: (event: ReplyEvent) => void,
  clientSignal: AbortSignal,
  /** Ends the response once the reply's last event is emitted (before its final write). */
  end?: () => void,
): Promise<ReplyOutcome> {
  const { store, provider, settings } = deps;
  const replyId = plan.replyId;
  const label = provider.modelLabel(plan.model);
  // Started by startReply when it could be (before begin_reply answered), else now.
  const call = plan.call ?? callModel(deps, req, plan);
  const upstream = call.controller;
  const iterator = call.iterator;
  const abort = (reason: unknown) => upstream.signal.aborted || upstream.abort(reason);
  // By default a reply outlives its client, so a reload can pick it up; Lambda never reports a
  // disconnect anyway.
  const onClientGone = () => abort(CANCELLED);
  if (settings.DISCONNECT_CANCELS) {
    clientSignal.addEventListener("abort", onClientGone, { once: true });
    if (clientSignal.aborted) abort(CANCELLED);
  }
  // The rows exist already (startReply); `plan.begin` runs once the upstream has accepted the request.
  let pending = call.first;

  const ev = new ReplyEvents(emit);
  ev.start({ id: replyId, conversation_id: req.conversationId, model: label, input_tokens: plan.prompt.input_tokens });
  const begun = call.accepted.then(plan.begin);
  begun.catch((e) => abort(e));

  const flusher = new Flusher(
    store,
    replyId,
    settings.FLUSH_INTERVAL_MS,
    begun,
    (stop) =>
      abort(
        stop.why === "cancel"
          ? CANCELLED
          : new AppError("api_error", "The reply was settled as failed while it was being produced", { expose: true }),
      ),
    (e) => deps.onFailure?.({ conversationId: req.conversationId, replyId, error: e, partial: true }),
  );
  flusher.start();

  // One interval for pings: it only pings when nothing else was emitted since its last tick.
  let emitted = true;
  const pinger = setInterval(() => {
    if (!emitted) emit(PING);
    emitted = false;
  }, settings.PING_INTERVAL_MS);
  // One timer for both timeouts: first token, then refreshed (not re-created) on every token.
  let watchdog = setTimeout(
    () => abort(new AppError("timeout_error", "The model did not start answering in time", { expose: true })),
    settings.FIRST_TOKEN_TIMEOUT_MS,
  );
  // The cap stops the model before the platform's hard kill, so the reply is stored as it ended.
  const cap = setTimeout(
    () => abort(new AppError("timeout_error", "The reply reached its time limit", { expose: true })),
    plan.maxDurationMs,
  );

  let ttft: number | null = null;
  let finish: Finish | null = null;
  let failure: unknown = null;
  let text = "";
  let thought = "";
  const firstToken = () => {
    ttft = performance.now();
    clearTimeout(watchdog);
    watchdog = setTimeout(
      () => abort(new AppError("timeout_error", "The model stopped sending tokens", { expose: true })),
      settings.IDLE_TIMEOUT_MS,
    );
  };
  try {
    for (;;) {
      const r = await pending;
      if (r.done) break;
      const e = r.value;
      if (e.type === "finish") {
        finish = e;
        pending = iterator.next();
        continue;
      }
      // Providers may reuse the event object: take the text before pulling the next event.
      const piece = e.text;
      const reasoning = e.type === "reasoning";
      pending = iterator.next();
      if (ttft === null) firstToken();
      else watchdog.refresh();
      // Reasoning after the text began breaks the provider contract; it would not fit the block order.
      if (!piece || (reasoning && text)) continue;
      emitted = true;
      if (reasoning) {
        thought += piece;
        flusher.addReasoning(piece);
        ev.reasoning(piece);
      } else {
        text += piece;
        flusher.addText(piece);
        ev.text(piece);
      }
    }
    if (!finish) throw new AppError("api_error", "The model stream ended without a finish reason");
  } catch (e) {
    failure = upstream.signal.aborted ? upstream.signal.reason : e;
    // Make sure the upstream request is closed whatever the provider did with the error.
    abort(failure);
    void iterator.return?.(undefined).catch(() => {});
  } finally {
    clearInterval(pinger);
    clearTimeout(watchdog);
    clearTimeout(cap);
    clientSignal.removeEventListener("abort", onClientGone);
  }

  const cancelled = failure === CANCELLED;
  const publicError = failure && !cancelled ? toPublicError(failure) : null;
  const report = (error: unknown) => deps.onFailure?.({ conversationId: req.conversationId, replyId, error, partial: text !== "" || thought !== "" });
  if (failure && !cancelled) report(failure);

  // Without the upstream's usage the figures are counted with the real tokenizer, after the stream.
  const count = !finish?.usage && (text || thought) ? await loadCounter(deps, plan.model) : undefined;
  const record = replyRecord(req, plan, count, { text, reasoning: thought, finish, failure, cancelled, publicError, ttft });
  // Only now: the flusher's heartbeat kept the row alive while the tokenizer loaded. The final write
  // goes out after a flush still in flight (the two append to the same text, in order) and settles the
  // ledger reservation to the real figures alongside, once, however the reply ended. The store orders
  // it after the last events (UserStore.finishReply).
  const finalWrite = flusher
    .close()
    .then(async (tail) => {
      const [finished] = await Promise.allSettled([
        // A reply row that was never created (the user message could not be stored) has nothing to finish.
        begun.then(() => finishWithRetry(deps, { id: replyId, text: tail.text, reasoning: tail.reasoning, ...record })),
        settleReservation(deps, plan, record, report),
      ]);
      if (finished.status === "rejected") throw finished.reason;
      if (finished.value) plan.onStored?.(finished.value);
      return finished.value;
    });
  // The client has every token already; the final write is at most a flush interval behind what it saw
  // (the rows exist and were flushed all along), so the stream ends now rather than after a round trip.
  // This process holds the conversation's next send until the write landed (one reply at a time).
  deps.finishing?.track(req.conversationId, finalWrite);
  if (cancelled) ev.finish("cancelled", record.token_count ?? 0);
  else if (failure) {
    const pe = publicError ?? toPublicError(failure);
    ev.error(pe.type, pe.message);
  } else ev.finish(record.finish_reason, record.token_count ?? 0);
  end?.();

  let stored: Message | null = null;
  try {
    stored = await finalWrite;
  } catch (e) {
    // Logged: a reader settles the row as failed once its heartbeat is stale, with the flushed text.
    report(e);
  }
  return { stored, writes: flusher.writes + 2 };
}

/** A turn of the event loop: what is queued for the socket goes out first. */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The final write, tried twice: it is idempotent (a finished reply is never rewritten). */
async function finishWithRetry(deps: ReplyDeps, input: Parameters<ReplyDeps["store"]["finishReply"]>[0]) {
  try {
    return await deps.store.finishReply(input);
  } catch {
    await new Promise((r) => setTimeout(r, FINAL_WRITE_RETRY_MS));
    return deps.store.finishReply(input);
  }
}
