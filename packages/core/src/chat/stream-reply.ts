import { randomUUID } from "node:crypto";
import type { Config } from "../config";
import { AppError, notFound, toPublicError } from "../errors";
import type { CompletionEvent, CompletionUsage, ModelProvider, UserStore } from "../ports";
import type { FinishReason, Message, StreamRequest } from "../schemas";
import { SseEncoder } from "../sse";
import { buildPrompt, estimateTokens, type TokenCounter } from "./prompt";

export type ReplySettings = Pick<
  Config,
  | "ALLOWED_MODELS"
  | "PING_INTERVAL_MS"
  | "FIRST_TOKEN_TIMEOUT_MS"
  | "IDLE_TIMEOUT_MS"
  | "CONTEXT_TOKEN_BUDGET"
  | "HISTORY_LIMIT"
  | "DAILY_TOKEN_BUDGET"
>;

export interface ReplyDeps {
  store: UserStore;
  provider: ModelProvider;
  settings: ReplySettings;
  countTokens?: TokenCounter;
}

export interface ReplyRequest {
  conversationId: string;
  body: StreamRequest;
  idempotencyKey: string | null;
  /** performance.now() when the request arrived: latency and time to first token count from here. */
  receivedAt: number;
}

export interface ReplyStream {
  /**
   * Streams the reply as SSE text through `write` and stores it. Never throws: a failure becomes an
   * `error` event, and the partial reply is stored either way. `signal` aborts when the client leaves.
   */
  run(write: (chunk: string) => void, signal: AbortSignal): Promise<Message | null>;
}

const DAY_MS = 86_400_000;

export function assertModelAllowed(model: string, allowed: string[]): void {
  if (!allowed.includes(model))
    throw new AppError("validation_error", `Model "${model}" is not allowed`, {
      fields: [{ path: "model", message: `must be one of: ${allowed.join(", ")}` }],
    });
}

/**
 * Everything that can refuse the request before a byte is streamed (404, 409, 422, 429), done in as few
 * round trips as possible because it sits in front of the first token.
 */
export async function startReply(deps: ReplyDeps, req: ReplyRequest): Promise<ReplyStream> {
  const { store, settings } = deps;
  const budget = settings.DAILY_TOKEN_BUDGET;
  const dayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const [turn, used] = await Promise.all([
    store.prepareTurn(req.conversationId, { historyLimit: settings.HISTORY_LIMIT, idempotencyKey: req.idempotencyKey }),
    budget > 0 ? store.tokensUsedSince(new Date(dayStart).toISOString()) : Promise.resolve(0),
  ]);
  if (!turn) throw notFound("Conversation");
  if (turn.idempotent?.reply)
    throw new AppError("conflict_error", "This Idempotency-Key was already used; the reply is stored", {
      replyId: turn.idempotent.reply.id,
    });
  if (budget > 0 && used >= budget)
    throw new AppError("rate_limit_error", `Daily token budget of ${budget} tokens is used up`, {
      retryAfter: Math.ceil((dayStart + DAY_MS - Date.now()) / 1000),
    });
  const model = req.body.model ?? turn.conversation.model;
  assertModelAllowed(model, settings.ALLOWED_MODELS);

  // A retried send whose user message is already stored: reuse it rather than store a second one.
  const retried = turn.idempotent?.user_message ?? null;
  const at = retried ? turn.history.findIndex((m) => m.id === retried.id) : -1;
  const history = at >= 0 ? turn.history.slice(0, at) : turn.history;
  const prompt = buildPrompt(
    turn.conversation.system_prompt,
    history,
    retried?.content ?? req.body.content,
    settings.CONTEXT_TOKEN_BUDGET,
    deps.countTokens,
  );
  return { run: (write, signal) => runReply(deps, req, { model, prompt, retried }, write, signal) };
}

interface Plan {
  model: string;
  prompt: ReturnType<typeof buildPrompt>;
  retried: Message | null;
}

async function runReply(
  deps: ReplyDeps,
  req: ReplyRequest,
  plan: Plan,
  write: (chunk: string) => void,
  clientSignal: AbortSignal,
): Promise<Message | null> {
  const { store, provider, settings } = deps;
  const count = deps.countTokens ?? estimateTokens;
  const sse = new SseEncoder();
  const replyId = randomUUID();
  const label = provider.modelLabel(plan.model);
  const upstream = new AbortController();
  const abort = (reason: unknown) => upstream.signal.aborted || upstream.abort(reason);
  const onClientGone = () => abort(CLIENT_GONE);
  clientSignal.addEventListener("abort", onClientGone, { once: true });
  if (clientSignal.aborted) abort(CLIENT_GONE);

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
    }) + sse.event("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
  );

  // The model call goes out first; the user's message is stored while it is in flight.
  const iterator = provider
    .complete({
      model: plan.model,
      messages: plan.prompt.messages,
      max_tokens: req.body.max_tokens,
      temperature: req.body.temperature,
      signal: upstream.signal,
    })
    [Symbol.asyncIterator]();
  let pending = iterator.next();
  const userSaved: Promise<unknown> = plan.retried
    ? Promise.resolve(plan.retried)
    : store.saveUserMessage({
        id: randomUUID(),
        conversation_id: req.conversationId,
        content: req.body.content,
        idempotency_key: req.idempotencyKey,
      });
  userSaved.catch((e) => abort(e));

  let wrote = true;
  const emit = (chunk: string) => {
    wrote = true;
    write(chunk);
  };
  const pinger = setInterval(() => {
    if (!wrote) write(sse.ping());
    wrote = false;
  }, settings.PING_INTERVAL_MS);
  let watchdog = setTimeout(
    () => abort(new AppError("timeout_error", "The model did not start answering in time", { expose: true })),
    settings.FIRST_TOKEN_TIMEOUT_MS,
  );

  const parts: string[] = [];
  let ttft: number | null = null;
  let finish: Extract<CompletionEvent, { type: "finish" }> | null = null;
  let failure: unknown = null;
  try {
    for (;;) {
      const r = await pending;
      if (r.done) break;
      const ev = r.value;
      if (ev.type === "text") {
        if (ttft === null) {
          ttft = performance.now();
          clearTimeout(watchdog);
          watchdog = setTimeout(
            () => abort(new AppError("timeout_error", "The model stopped sending tokens", { expose: true })),
            settings.IDLE_TIMEOUT_MS,
          );
        } else watchdog.refresh(); // cheaper per token than a new timer
        pending = iterator.next();
        if (ev.text) {
          parts.push(ev.text);
          emit(sse.textDelta(ev.text));
        }
      } else {
        finish = ev;
        pending = iterator.next();
      }
    }
    if (!finish) throw new AppError("api_error", "The model stream ended without a finish reason");
  } catch (e) {
    failure = upstream.signal.aborted ? upstream.signal.reason : e;
    void iterator.return?.(undefined).catch(() => {});
  } finally {
    clearInterval(pinger);
    clearTimeout(watchdog);
    clientSignal.removeEventListener("abort", onClientGone);
  }

  const text = parts.join("");
  const cancelled = failure === CLIENT_GONE;
  const finishReason: FinishReason = failure ? (cancelled ? "cancelled" : "error") : finish!.finish_reason;
  const usage: CompletionUsage = finish?.usage ?? {
    input_tokens: plan.prompt.input_tokens,
    output_tokens: text ? count(text) : 0,
    estimated: true,
  };
  const metadata: Record<string, unknown> = { ...finish?.metadata, history_omitted: plan.prompt.omitted };
  if (usage.estimated) metadata.usage_estimated = true;
  if (req.idempotencyKey) metadata.idempotency_key = req.idempotencyKey;
  const publicError = failure && !cancelled ? toPublicError(failure) : null;
  if (publicError) metadata.error = { type: publicError.type, message: publicError.message };

  let stored: Message | null = null;
  try {
    // A reply can only follow a stored user message; if that failed there is nothing to attach it to.
    await userSaved;
    stored = await store.saveAssistantMessage({
      id: replyId,
      conversation_id: req.conversationId,
      content: text,
      model: label,
      token_count: usage.output_tokens,
      input_tokens: usage.input_tokens,
      finish_reason: finishReason,
      latency_ms: Math.round(performance.now() - req.receivedAt),
      ttft_ms: ttft === null ? null : Math.round(ttft - req.receivedAt),
      metadata,
    });
  } catch (e) {
    if (!failure) failure = e;
  }

  if (cancelled) return stored;
  if (failure) {
    const pe = publicError ?? toPublicError(failure);
    write(sse.event("error", { type: "error", error: { type: pe.type, message: pe.message } }));
    return stored;
  }
  write(
    sse.event("content_block_stop", { type: "content_block_stop", index: 0 }) +
      sse.event("message_delta", {
        type: "message_delta",
        delta: { stop_reason: finishReason, stop_sequence: null },
        usage: { output_tokens: usage.output_tokens },
      }) +
      sse.event("message_stop", { type: "message_stop" }),
  );
  return stored;
}

/** Sentinel abort reason: the client closed the connection. */
const CLIENT_GONE = Symbol("client-gone");

