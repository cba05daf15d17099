import { randomUUID } from "node:crypto";
import type { Config } from "../config";
import { AppError, notFound } from "../errors";
import type { ModelProvider, UserStore } from "../ports";
import type { Message, StreamRequest } from "../schemas";
import { modelInfo } from "../models";
import { planSend } from "./idempotency";
import { buildPrompt, estimateTokens, fitsWithoutCounting, type TokenCounter } from "./prompt";
import { runReply, type ReplyFailure } from "./run-reply";

export type { ReplyFailure } from "./run-reply";

export type ReplySettings = Pick<
  Config,
  | "ALLOWED_MODELS"
  | "DEFAULT_MODEL"
  | "MODEL_CONTEXT_WINDOWS"
  | "PING_INTERVAL_MS"
  | "FIRST_TOKEN_TIMEOUT_MS"
  | "IDLE_TIMEOUT_MS"
  | "CONTEXT_TOKEN_BUDGET"
  | "HISTORY_LIMIT"
  | "DAILY_TOKEN_BUDGET"
  | "RESERVE_OUTPUT_TOKENS"
>;

export interface ReplyDeps {
  store: UserStore;
  provider: ModelProvider;
  settings: ReplySettings;
  /** Loads the model's tokenizer; only called when a count matters (long histories, missing usage). */
  tokenizer?: (model: string) => Promise<TokenCounter>;
  /** Told, for logs, when a reply fails after the stream began (not when the client left) or cannot be stored. */
  onFailure?: (failure: ReplyFailure) => void;
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
      fields: [{ path: "body.model", message: `must be one of: ${allowed.join(", ")}` }],
    });
}

/**
 * Everything that can refuse the request before a byte is streamed (404, 409, 422, 429), done in as few
 * round trips as possible because it sits in front of the first token. The model is not called before
 * all of them pass.
 */
export async function startReply(deps: ReplyDeps, req: ReplyRequest): Promise<ReplyStream> {
  const { store, settings } = deps;
  const turn = await store.prepareTurn(req.conversationId, {
    historyLimit: settings.HISTORY_LIMIT,
    idempotencyKey: req.idempotencyKey,
  });
  if (!turn) throw notFound("Conversation");
  const send = planSend(turn);
  const model = chooseModel(req.body.model, turn.conversation.model, settings);
  const effort = req.body.reasoning_effort;
  const info = modelInfo(model, settings.MODEL_CONTEXT_WINDOWS);
  if (effort !== undefined && !info.reasoning_efforts.includes(effort))
    throw new AppError("validation_error", `Model "${model}" does not take reasoning_effort "${effort}"`, {
      fields: [
        {
          path: "body.reasoning_effort",
          message: info.reasoning_efforts.length ? `must be one of: ${info.reasoning_efforts.join(", ")}` : `not supported by ${model}`,
        },
      ],
    });

  const system = turn.conversation.system_prompt;
  const content = send.retried?.content ?? req.body.content;
  // The budget never exceeds what the model can read, less the room its reply asked for.
  const room = info.context_window === null ? Infinity : info.context_window - (req.body.max_tokens ?? 0);
  const budgetTokens = Math.max(1, Math.min(settings.CONTEXT_TOKEN_BUDGET, room));
  const count = fitsWithoutCounting(system, send.history, content, budgetTokens)
    ? estimateTokens
    : ((await deps.tokenizer?.(model)) ?? estimateTokens);
  const prompt = buildPrompt(system, send.history, content, budgetTokens, count);
  const reservation = await reserveWorstCase(deps, model, prompt.input_tokens, req.body.max_tokens);
  return { run: (write, signal) => runReply(deps, req, { model, prompt, retried: send.retried, reservation }, write, signal) };
}

/**
 * Every send is in the usage ledger from before the model is called: its worst case (the counted
 * prompt plus max_tokens, or RESERVE_OUTPUT_TOKENS without one) is reserved in one statement that
 * also checks the day's budget under a per-user lock, so concurrent sends overshoot it by at most one
 * reservation. runReply settles it to the real figures.
 */
async function reserveWorstCase(deps: ReplyDeps, model: string, promptTokens: number, maxTokens: number | undefined) {
  const budget = deps.settings.DAILY_TOKEN_BUDGET;
  const dayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const reservation = await deps.store.reserveTokens({
    reservation_id: randomUUID(),
    model,
    tokens: promptTokens + (maxTokens ?? deps.settings.RESERVE_OUTPUT_TOKENS),
    budget,
    since: new Date(dayStart).toISOString(),
  });
  if (!reservation.ok)
    throw new AppError("rate_limit_error", `Daily token budget of ${budget} tokens is used up`, {
      retryAfter: Math.ceil((dayStart + DAY_MS - Date.now()) / 1000),
    });
  return reservation;
}

/**
 * A model named in the request must be allowed (422). A conversation keeps the model it was created
 * with, but once that model is off the allow-list (Groq retired it, the operator moved on) the default
 * answers instead, and the stored reply's `model` says so: old conversations keep working.
 */
function chooseModel(requested: string | undefined, stored: string, settings: ReplySettings): string {
  if (requested !== undefined) {
    assertModelAllowed(requested, settings.ALLOWED_MODELS);
    return requested;
  }
  return settings.ALLOWED_MODELS.includes(stored) ? stored : settings.DEFAULT_MODEL;
}
