// What a reply will ask of the model and reserve of the budget, from the turn it answers: the model,
// the output limit, the prompt within the context budget, and the ledger reservation. Everything here
// refuses (422, 429) before anything is stored.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { AppError } from "../errors";
import type { BeginReservation } from "../ports";
import { allowedServerTools, defaultModel, isServed, modelInfo, notServedReason, type ModelInfo } from "../models";
import type { ReasoningEffort } from "../reasoning-efforts";
import type { ModelSnapshot } from "../model-catalog";
import { buildPrompt, estimateTokens, fitsWithoutCounting } from "./prompt";
import { checkServerTools } from "./server-tools";
import type { ReplyDeps, ReplyPlan, ReplyRequest, ReplySettings } from "./types";
import type { AdmittedTurn } from "./turn";
import { checkToolChoice, countToolTokens, toolsPromptText } from "./tools";

/** Time kept back from the invocation's end for the final write and closing the stream. */
const FINISH_MARGIN_MS = 5_000;

/** How long a reply (or a follower) may run: the setting, within what is left of the invocation. */
export function durationCap(settings: Pick<ReplySettings, "REPLY_MAX_DURATION_MS">, remainingMs: number | undefined): number {
  const cap = settings.REPLY_MAX_DURATION_MS;
  return remainingMs === undefined ? cap : Math.max(1_000, Math.min(cap, remainingMs - FINISH_MARGIN_MS));
}

const DAY_MS = 86_400_000;
export const dayStart = (now: number) => Math.floor(now / DAY_MS) * DAY_MS;
/** Retry-After for a refusal of the day's budget: the next UTC day, counted from the reservation's day. */
export const secondsToNextDay = (since: string) => Math.max(1, Math.ceil((Date.parse(since) + DAY_MS - Date.now()) / 1000));

export function assertModelAllowed(model: string, allowed: string[]): void {
  if (!allowed.includes(model))
    throw new AppError("validation_error", `Model "${model}" is not allowed`, {
      fields: [{ path: "body.model", message: `must be one of: ${allowed.join(", ")}` }],
    });
}

/** The reply's plan for `turn`, or the refusal of a request the model or the budget cannot take. */
export async function planReply(
  deps: ReplyDeps,
  req: ReplyRequest,
  turn: AdmittedTurn,
  replyId: string,
  served: ModelSnapshot | null,
): Promise<ReplyPlan> {
  const { settings } = deps;
  checkToolChoice(req.body.tools, req.body.tool_choice, { choice: "body.tool_choice", name: "body.tool_choice.name" });
  const model = chooseModel(req.body.model, turn.context.conversation.model, settings, served);
  checkServerTools(req.body.server_tools, model, allowedServerTools(settings, served));
  const info = modelInfo(model, served, settings.MODEL_CONTEXT_WINDOWS);
  const outputLimit = checkOutputFor(model, info, req.body, settings);

  const system = turn.context.conversation.system_prompt;
  // The budget never exceeds what the model can read, less the room its reply may take.
  const room = info.context_window === null ? Infinity : info.context_window - outputLimit;
  const budgetTokens = Math.max(1, Math.min(settings.CONTEXT_TOKEN_BUDGET, room));
  // Tool definitions reach the model as part of its prompt: they take their share of the budget first.
  const toolsText = toolsPromptText(req.body.tools);
  const count = fitsWithoutCounting(system, turn.history, turn.asked, budgetTokens - Buffer.byteLength(toolsText, "utf8"))
    ? estimateTokens
    : ((await deps.tokenizer?.(model)) ?? estimateTokens);
  const toolTokens = countToolTokens(toolsText, count);
  const built = buildPrompt(system, turn.history, turn.asked, Math.max(1, budgetTokens - toolTokens), count);
  const prompt = toolTokens ? { ...built, input_tokens: built.input_tokens + toolTokens } : built;

  // The send's worst case (the counted prompt plus the output limit) is reserved by begin_reply in the
  // same round trip, only when it creates the reply: see reservationFor.
  const { reservation, secret } = reservationFor(settings, deps.provider.modelLabel(model), prompt.input_tokens + outputLimit);
  if (settings.DAILY_TOKEN_BUDGET > 0 && reservation.tokens > settings.DAILY_TOKEN_BUDGET) throw overBudget(settings, reservation, prompt.input_tokens);
  return {
    model,
    prompt,
    budget: budgetTokens,
    outputLimit,
    retried: turn.retried,
    replyId,
    maxDurationMs: durationCap(settings, req.remainingMs),
    reservation,
    secret,
  };
}

/**
 * The request's reasoning effort and output limit must suit the model (422): refused here, before
 * anything is stored, rather than by the provider once the stream has begun. Answers the output limit
 * every upstream request carries: the client's, else the model's cap within RESERVE_OUTPUT_TOKENS, so
 * the budget's reservation can count on the same figure.
 */
export function checkOutputFor(
  model: string,
  info: ModelInfo,
  body: { reasoning_effort?: ReasoningEffort | undefined; max_tokens?: number | undefined },
  settings: Pick<ReplySettings, "RESERVE_OUTPUT_TOKENS">,
): number {
  const effort = body.reasoning_effort;
  if (effort !== undefined && !info.reasoning_efforts.includes(effort))
    throw new AppError("validation_error", `Model "${model}" does not take reasoning_effort "${effort}"`, {
      fields: [
        {
          path: "body.reasoning_effort",
          message: info.reasoning_efforts.length ? `must be one of: ${info.reasoning_efforts.join(", ")}` : `not supported by ${model}`,
        },
      ],
    });
  const cap = info.max_output_tokens;
  if (body.max_tokens !== undefined && cap !== null && body.max_tokens > cap)
    throw new AppError("validation_error", `Model "${model}" writes at most ${cap} tokens per reply`, {
      fields: [{ path: "body.max_tokens", message: `must be at most ${cap} for ${model}` }],
    });
  return body.max_tokens ?? Math.min(cap ?? Infinity, settings.RESERVE_OUTPUT_TOKENS);
}

/**
 * 429 for a send whose worst case does not fit what is left of the day's budget, with the figures: the
 * prompt and the output limit it reserves, and what is left (`used` unknown: before asking the
 * database, because the send could not fit even a fresh day). Retry-After points at the next UTC day.
 */
export function overBudget(settings: ReplySettings, r: BeginReservation, promptTokens: number, used?: number): AppError {
  const budget = settings.DAILY_TOKEN_BUDGET;
  const needs = `This send needs up to ${r.tokens} tokens (a ${promptTokens}-token prompt plus ${r.tokens - promptTokens} for the reply)`;
  const message =
    used === undefined
      ? `${needs}, more than the daily token budget of ${budget}: shorten the conversation's system prompt or history, or lower max_tokens`
      : `${needs}; ${Math.max(0, budget - used)} of the daily token budget of ${budget} are left`;
  return new AppError("rate_limit_error", message, {
    retryAfter: secondsToNextDay(r.since),
  });
}

/**
 * Every send is in the usage ledger from before the model is called: begin_reply reserves its worst
 * case (the counted prompt plus the output limit the upstream request carries) under a per-user lock,
 * only if it fits what is left of the day's budget; the reply settles it to the real figures. The
 * settle secret is made here and stays in this process: the database keeps only its SHA-256.
 */
export function reservationFor(settings: ReplySettings, model: string, worstCase: number) {
  const secret = randomBytes(32).toString("hex");
  const reservation: BeginReservation = {
    reservation_id: randomUUID(),
    model,
    tokens: worstCase,
    budget: settings.DAILY_TOKEN_BUDGET,
    since: new Date(dayStart(Date.now())).toISOString(),
    secret_hash: createHash("sha256").update(secret, "utf8").digest("hex"),
  };
  return { reservation, secret };
}

/**
 * A model named in the request must be allowed and served (422). A conversation keeps the model it was
 * created with, but once that model is off the allow-list or the provider's list (Groq retired it, the
 * operator moved on) the default answers instead (defaultModel: DEFAULT_MODEL, or the first allowed
 * model served when the provider dropped it), and the stored reply's `model` says so: old
 * conversations keep working.
 */
function chooseModel(requested: string | undefined, stored: string, settings: ReplySettings, served: ModelSnapshot | null): string {
  if (requested !== undefined) {
    assertModelAllowed(requested, settings.ALLOWED_MODELS);
    if (served && !isServed(requested, served))
      throw new AppError("validation_error", `Model "${requested}" is not available now`, {
        fields: [{ path: "body.model", message: `${notServedReason(served)}; GET /api/v1/models lists the models that are` }],
      });
    return requested;
  }
  return settings.ALLOWED_MODELS.includes(stored) && isServed(stored, served) ? stored : defaultModel(settings, served);
}
