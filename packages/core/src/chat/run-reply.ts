import { randomUUID } from "node:crypto";
import { AppError, toPublicError } from "../errors";
import type { CompletionEvent } from "../ports";
import type { FinishReason, Message } from "../schemas";
import { reasons } from "../models";
import { SseEncoder } from "../sse";
import { countPrompt, estimateTokens, type Prompt, type TokenCounter } from "./prompt";
import type { ReplyDeps, ReplyRequest } from "./stream-reply";

export interface ReplyPlan {
  model: string;
  prompt: Prompt;
  /** The stored user message a retried send answers again (nothing new is stored for it). */
  retried: Message | null;
  /** The ledger reservation startReply made; settled once when the reply ends, however it ends. */
  reservation: { reservation_id: string; secret: string };
}

export interface ReplyFailure {
  conversationId: string;
  replyId: string;
  error: unknown;
  /** Whether any text had reached the client. */
  partial: boolean;
}

type Finish = Extract<CompletionEvent, { type: "finish" }>;

/** Abort reason: the client closed the connection. */
const CLIENT_GONE = Symbol("client-gone");

/**
 * Streams one reply: message_start, the model's deltas (pings while it is silent), then the closing
 * events or an `error` event; stores the reply however it ended. Upstream is aborted on client
 * disconnect, on the first-token and idle timeouts, and when storing the user message fails.
 */
export async function runReply(
  deps: ReplyDeps,
  req: ReplyRequest,
  plan: ReplyPlan,
  write: (chunk: string) => void,
  clientSignal: AbortSignal,
): Promise<Message | null> {
  const { store, provider, settings } = deps;
  const sse = new SseEncoder();
  const replyId = randomUUID();
  const label = provider.modelLabel(plan.model);
  const upstream = new AbortController();
  const abort = (reason: unknown) => upstream.signal.aborted || upstream.abort(reason);
  const onClientGone = () => abort(CLIENT_GONE);
  clientSignal.addEventListener("abort", onClientGone, { once: true });
  if (clientSignal.aborted) abort(CLIENT_GONE);

  // The model call goes out first; the user's message is stored while it is in flight, starting once
  // the upstream has accepted the request (or answered at all), so the write never delays it.
  let accepted!: () => void;
  const acceptance = new Promise<void>((resolve) => (accepted = resolve));
  const iterator = provider
    .complete({
      model: plan.model,
      messages: plan.prompt.messages,
      max_tokens: req.body.max_tokens,
      temperature: req.body.temperature,
      reasoning_effort: req.body.reasoning_effort,
      signal: upstream.signal,
      onAccepted: accepted,
    })
    [Symbol.asyncIterator]();
  let pending = iterator.next();
  pending.then(accepted, accepted);

  // A reasoning model's reply opens with a thinking block (index 0) and its text follows at index 1;
  // any other reply is one text block at index 0, opened at once as it always was.
  const blocks = new ReplyBlocks(sse, reasons(plan.model, req.body.reasoning_effort));
  // Only now the response begins: the request to the model is already on its way.
  write(
    sse.event("message_start", {
      type: "message_start",
      message: {
        id: replyId,
        type: "message",
        role: "assistant",
        conversation_id: req.conversationId,
        model: label,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: plan.prompt.input_tokens, output_tokens: 0 },
      },
    }) + blocks.opening(),
  );
  const userSaved: Promise<unknown> = plan.retried
    ? Promise.resolve(plan.retried)
    : acceptance.then(() =>
        store.saveUserMessage({
          id: randomUUID(),
          conversation_id: req.conversationId,
          content: req.body.content,
          idempotency_key: req.idempotencyKey,
        }),
      );
  userSaved.catch((e) => abort(e));

  // One interval for pings: it only writes when nothing else was written since its last tick.
  let wrote = true;
  const pinger = setInterval(() => {
    if (!wrote) write(sse.ping());
    wrote = false;
  }, settings.PING_INTERVAL_MS);
  // One timer for both timeouts: first token, then refreshed (not re-created) on every token.
  let watchdog = setTimeout(
    () => abort(new AppError("timeout_error", "The model did not start answering in time", { expose: true })),
    settings.FIRST_TOKEN_TIMEOUT_MS,
  );

  const parts: string[] = [];
  const thoughts: string[] = [];
  let ttft: number | null = null;
  let finish: Finish | null = null;
  let failure: unknown = null;
  try {
    for (;;) {
      const r = await pending;
      if (r.done) break;
      const ev = r.value;
      if (ev.type === "text" || ev.type === "reasoning") {
        // Providers may reuse the event object: take the text before pulling the next event.
        const { type, text } = ev;
        pending = iterator.next();
        if (ttft === null) {
          ttft = performance.now();
          clearTimeout(watchdog);
          watchdog = setTimeout(
            () => abort(new AppError("timeout_error", "The model stopped sending tokens", { expose: true })),
            settings.IDLE_TIMEOUT_MS,
          );
        } else watchdog.refresh();
        if (text) {
          (type === "text" ? parts : thoughts).push(text);
          const chunk = type === "text" ? blocks.text(text) : blocks.thinking(text);
          if (chunk) {
            wrote = true;
            write(chunk);
          }
        }
      } else {
        finish = ev;
        pending = iterator.next();
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
    clientSignal.removeEventListener("abort", onClientGone);
  }

  const text = parts.join("");
  const reasoning = thoughts.join("");
  const cancelled = failure === CLIENT_GONE;
  const publicError = failure && !cancelled ? toPublicError(failure) : null;
  const report = (error: unknown) => deps.onFailure?.({ conversationId: req.conversationId, replyId, error, partial: text !== "" || reasoning !== "" });
  if (failure && !cancelled) report(failure);

  // Without the upstream's usage the figures are counted with the real tokenizer, after the stream.
  const count = !finish?.usage && (text || reasoning) ? await loadCounter(deps, plan.model) : estimateTokens;
  const record = replyRecord(req, plan, count, { text, reasoning, finish, failure, cancelled, publicError, ttft });
  let stored: Message | null = null;
  try {
    // A reply can only follow a stored user message; if that failed there is nothing to attach it to.
    await userSaved;
    stored = await store.saveAssistantMessage({ id: replyId, conversation_id: req.conversationId, model: label, ...record });
  } catch (e) {
    report(e);
    if (!failure) failure = e;
  }
  await settleReservation(deps, plan, record, report);

  if (cancelled) return stored;
  if (failure) {
    const pe = publicError ?? toPublicError(failure);
    write(blocks.beforeError() + sse.event("error", { type: "error", error: { type: pe.type, message: pe.message } }));
    return stored;
  }
  write(
    blocks.closing() +
      sse.event("message_delta", {
        type: "message_delta",
        delta: { stop_reason: record.finish_reason, stop_sequence: null },
        usage: { output_tokens: record.token_count ?? 0 },
      }) +
      sse.event("message_stop", { type: "message_stop" }),
  );
  return stored;
}

interface Outcome {
  text: string;
  reasoning: string;
  finish: Finish | null;
  failure: unknown;
  cancelled: boolean;
  publicError: ReturnType<typeof toPublicError> | null;
  ttft: number | null;
}

/**
 * What is stored for a reply. Token figures come from the upstream when it reported them; otherwise
 * they are counted here and marked `usage_estimated`. A reply that produced nothing and reported nothing
 * stores no input tokens: the upstream most likely charged none (429, 5xx, refused), and an estimate
 * would count against the user's budget for a failure that was not theirs.
 */
function replyRecord(req: ReplyRequest, plan: ReplyPlan, count: TokenCounter, o: Outcome) {
  const usage = o.finish?.usage ?? null;
  const metadata: Record<string, unknown> = { ...o.finish?.metadata, history_omitted: plan.prompt.omitted };
  if (!usage || usage.estimated) metadata.usage_estimated = true;
  if (req.idempotencyKey) metadata.idempotency_key = req.idempotencyKey;
  if (plan.retried) metadata.retry_of_user_message = plan.retried.id;
  if (usage?.reasoning_tokens !== undefined)
    metadata.usage = { ...(metadata.usage as object | undefined), reasoning_tokens: usage.reasoning_tokens };
  if (o.publicError) metadata.error = { type: o.publicError.type, message: o.publicError.message };
  const finishReason: FinishReason = o.failure ? (o.cancelled ? "cancelled" : "error") : o.finish!.finish_reason;
  // Reasoning is output: the upstream's completion tokens include it, and so does the estimate.
  const produced = (o.text ? count(o.text) : 0) + (o.reasoning ? count(o.reasoning) : 0);
  return {
    content: o.text,
    reasoning: o.reasoning,
    token_count: usage ? usage.output_tokens : produced,
    input_tokens: usage ? usage.input_tokens : o.ttft !== null ? countPrompt(plan.prompt.messages, count) : null,
    finish_reason: finishReason,
    latency_ms: Math.round(performance.now() - req.receivedAt),
    ttft_ms: o.ttft === null ? null : Math.round(o.ttft - req.receivedAt),
    metadata,
  };
}

/**
 * Settles the send's ledger reservation to what the reply really used (end, cancel or error alike).
 * A failure here is logged, not fatal: the reservation then keeps counting its worst case.
 */
async function settleReservation(
  deps: ReplyDeps,
  plan: ReplyPlan,
  record: { input_tokens: number | null; token_count: number | null; latency_ms: number },
  report: (error: unknown) => void,
): Promise<void> {
  try {
    await deps.store.settleTokens({
      ...plan.reservation,
      input_tokens: record.input_tokens ?? 0,
      output_tokens: record.token_count ?? 0,
      latency_ms: record.latency_ms,
    });
  } catch (e) {
    report(e);
  }
}

async function loadCounter(deps: ReplyDeps, model: string): Promise<TokenCounter> {
  try {
    return (await deps.tokenizer?.(model)) ?? estimateTokens;
  } catch {
    return estimateTokens; // an estimate, still marked as such, beats losing the reply
  }
}

/**
 * Which content block is open, and the events that move between them: a thinking block (index 0) while
 * the model reasons, then the text block (index 1 after thinking, 0 otherwise). A reply with no thinking
 * block still has a text block, even an empty one, as Anthropic's clients expect.
 */
class ReplyBlocks {
  private open: "none" | "thinking" | "text";
  private textIndex: 0 | 1 = 0;

  constructor(
    private readonly sse: SseEncoder,
    thinks: boolean,
  ) {
    this.open = thinks ? "none" : "text";
  }

  /** Written with message_start: the text block, unless the reply may start by thinking. */
  opening(): string {
    return this.open === "text" ? this.start("text") : "";
  }

  /** Reasoning that arrives once the text block is open has no place in the stream (it is still stored). */
  thinking(text: string): string {
    if (this.open === "text") return "";
    const head = this.open === "none" ? this.start("thinking") : "";
    this.open = "thinking";
    return head + this.sse.thinkingDelta(text);
  }

  text(text: string): string {
    return this.toText() + this.sse.textDelta(text, this.textIndex);
  }

  /** A reply that fails before any block opened still shows its (empty) text block, as before reasoning. */
  beforeError(): string {
    return this.open === "none" ? this.toText() : "";
  }

  closing(): string {
    return this.toText() + this.sse.event("content_block_stop", { type: "content_block_stop", index: this.textIndex });
  }

  private toText(): string {
    if (this.open === "text") return "";
    let out = "";
    if (this.open === "thinking") {
      out += this.sse.event("content_block_stop", { type: "content_block_stop", index: 0 });
      this.textIndex = 1;
    }
    this.open = "text";
    return out + this.start("text");
  }

  private start(kind: "text" | "thinking"): string {
    const index = kind === "thinking" ? 0 : this.textIndex;
    const content_block = kind === "text" ? { type: "text" as const, text: "" as const } : { type: "thinking" as const, thinking: "" as const };
    return this.sse.event("content_block_start", { type: "content_block_start", index, content_block });
  }
}
