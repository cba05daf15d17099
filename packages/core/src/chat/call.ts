// A model call that stores nothing but its ledger entry: the Anthropic Messages and OpenAI Chat
// Completions formats without a conversation. The client sends the whole prompt; the reply runs through
// the one reply loop (run-reply.ts) with a store that keeps no rows, so it streams, times out, pings,
// counts and settles exactly as a send does. Refusals come before the model is called: the model (not
// allowed or not served), the output limit, the prompt's size, the day's budget and the cap on
// streaming replies (reserve_call, counted as one of them until it is settled). Client tools come as
// the native send's (schemas/tools.ts): the client holds the whole tool loop, so its history carries the
// model's tool calls and the tools' results, and its last turn may be a result rather than a message.
import { randomUUID } from "node:crypto";
import type { ChatTurn, CompletionRequest, ModelProvider, UserStore } from "../ports";
import type { ReasoningEffort } from "../reasoning-efforts";
import type { ToolChoice, ToolDefinition } from "../schemas";
import { AppError } from "../errors";
import { isServed, modelInfo, notServedReason } from "../models";
import { servedModels } from "../model-catalog";
import { countPrompt, estimateTokens } from "./prompt";
import { assertModelAllowed, checkOutputFor, durationCap, reservationFor, secondsToNextDay } from "./plan";
import { Reply } from "./reply";
import { checkToolChoice, countToolTokens, toolsPromptText } from "./tools";
import type { ReplyDeps, ReplyPlan, ReplyStream, SendReplyRequest } from "./types";

/** Sampling settings the wire formats take beyond our own send's: passed to the provider as they are. */
export interface Sampling {
  top_p?: number | undefined;
  stop?: string[] | undefined;
}

export interface CallRequest extends Sampling {
  model: string;
  system: string | null;
  /** The conversation as the client holds it; the last turn is the user's message or a tool's result. */
  messages: CallTurn[];
  /** Client tools (validated by the wire format's schema) and how the model may choose among them. */
  tools?: ToolDefinition[] | undefined;
  tool_choice?: ToolChoice | undefined;
  max_tokens?: number | undefined;
  temperature?: number | undefined;
  reasoning_effort?: ReasoningEffort | undefined;
  /** performance.now() when the request arrived. */
  receivedAt: number;
  remainingMs?: number | undefined;
}

/** A turn of a call's history: any prompt turn but the system prompt, which a call carries apart. */
export type CallTurn = Exclude<ChatTurn, { role: "system" }>;

/**
 * What calls are tracked under in FinishingReplies: a call's stream ends before its reservation is
 * settled, so a client's next call could find it still open (counted by the cap). The next call in this
 * process waits for the last one's final write, as a conversation's next send does.
 */
const CALLS = "calls";
/** Kept on top of the call's longest run before its reservation stops counting against the cap. */
const OPEN_MARGIN_MS = 30_000;

/** The provider, with the wire format's extra sampling settings on every request it makes. */
export function withSampling(provider: ModelProvider, sampling: Sampling): ModelProvider {
  if (sampling.top_p === undefined && sampling.stop === undefined) return provider;
  const wrapped = Object.create(provider) as ModelProvider;
  wrapped.complete = (r: CompletionRequest) => provider.complete({ ...r, top_p: sampling.top_p, stop: sampling.stop });
  return wrapped;
}

/** A store that keeps nothing of the reply: its flushes and final write go nowhere; the ledger is real. */
function ledgerOnly(store: UserStore): UserStore {
  const s = Object.create(store) as UserStore;
  s.flushReply = async () => null;
  s.finishReply = async () => null;
  return s;
}

interface Checked {
  model: string;
  turns: ChatTurn[];
  inputTokens: number;
  outputLimit: number;
  budget: number;
  label: string;
}

/** The checks every call passes before anything is reserved, with what they work out. */
async function check(deps: ReplyDeps, req: CallRequest): Promise<Checked> {
  const { settings } = deps;
  const served = await servedModels(deps.provider.catalog);
  const model = req.model;
  assertModelAllowed(model, settings.ALLOWED_MODELS);
  if (served && !isServed(model, served))
    throw new AppError("validation_error", `Model "${model}" is not available now`, {
      fields: [{ path: "body.model", message: `${notServedReason(served)}; the models route lists the models that are` }],
    });
  const info = modelInfo(model, served, settings.MODEL_CONTEXT_WINDOWS);
  const outputLimit = checkOutputFor(model, info, req, settings);
  checkTurns(req.messages);
  checkToolChoice(req.tools, req.tool_choice, { choice: "body.tool_choice", name: "body.tool_choice" });
  const turns: ChatTurn[] = req.system ? [{ role: "system", content: req.system }] : [];
  turns.push(...req.messages);
  // Tool definitions reach the model as part of its prompt, so they count with it.
  const toolsText = toolsPromptText(req.tools);
  // The estimate never undercounts a byte-level BPE; only a prompt it puts over the budget is counted.
  const room = info.context_window === null ? Infinity : info.context_window - outputLimit;
  const budget = Math.max(1, Math.min(settings.CONTEXT_TOKEN_BUDGET, room));
  let inputTokens = countPrompt(turns, estimateTokens) + countToolTokens(toolsText, estimateTokens);
  if (inputTokens > budget) {
    const count = (await deps.tokenizer?.(model)) ?? estimateTokens;
    inputTokens = countPrompt(turns, count) + countToolTokens(toolsText, count);
    if (inputTokens > budget)
      throw new AppError("validation_error", `The prompt is too long: ${inputTokens} tokens, more than the ${budget} this server takes for ${model}`, {
        fields: [{ path: "body.messages", message: `must come to at most ${budget} tokens` }],
      });
  }
  return { model, turns, inputTokens, outputLimit, budget, label: deps.provider.modelLabel(model) };
}

/**
 * The history's shape every provider needs: it ends with the user's message or a tool's result, and
 * each tool result answers a call of the assistant turn before it (the results of one turn follow it
 * together, a user message may come after them). The provider would refuse it once the stream began.
 */
function checkTurns(messages: CallTurn[]): void {
  const last = messages.at(-1);
  if (last?.role !== "user" && last?.role !== "tool")
    throw new AppError("validation_error", "The last message must be the user's or a tool's result", {
      fields: [{ path: "body.messages", message: "must end with a user message or a tool result" }],
    });
  let open = new Set<string>();
  messages.forEach((m, i) => {
    if (m.role === "assistant") open = new Set((m.tool_calls ?? []).map((c) => c.id));
    else if (m.role === "tool") {
      if (!open.delete(m.tool_use_id))
        throw new AppError("validation_error", `A tool result answers "${m.tool_use_id}", which no tool call of the assistant turn before it has`, {
          fields: [{ path: `body.messages.${i}`, message: "a tool result must answer a tool call of the assistant turn just before it (by its id)" }],
        });
    } else open = new Set();
  });
}

/** The prompt's tokens as a call would count them (message_start's input_tokens), after the same checks. */
export async function countCallTokens(deps: ReplyDeps, req: CallRequest): Promise<number> {
  return (await check(deps, req)).inputTokens;
}

/**
 * Checks the call, reserves its worst case (429 over the budget or the cap), and answers the reply
 * loop's stream of it. Nothing is stored but the ledger entry, settled to the real figures however the
 * reply ends.
 */
export async function startCall(deps: ReplyDeps, req: CallRequest): Promise<ReplyStream> {
  const { settings } = deps;
  const c = await check(deps, req);
  await deps.finishing?.settled(CALLS);
  const callId = randomUUID();
  const { reservation, secret } = reservationFor(settings, c.label, c.inputTokens + c.outputLimit);
  const maxDurationMs = durationCap(settings, req.remainingMs);
  const decided = await deps.store.reserveCall({
    reservation,
    max_streaming: settings.MAX_CONCURRENT_REPLIES,
    stale_ms: settings.REPLY_STALE_MS,
    open_ms: maxDurationMs + OPEN_MARGIN_MS,
  });
  if (decided.status === "over_budget") {
    const left = Math.max(0, settings.DAILY_TOKEN_BUDGET - decided.used);
    throw new AppError(
      "rate_limit_error",
      `This call needs up to ${reservation.tokens} tokens (a ${c.inputTokens}-token prompt plus ${c.outputLimit} for the reply); ${left} of the daily token budget of ${settings.DAILY_TOKEN_BUDGET} are left`,
      { retryAfter: secondsToNextDay(reservation.since) },
    );
  }
  if (decided.status === "too_many")
    throw new AppError(
      "rate_limit_error",
      `${decided.streaming} of your replies are already streaming, the most at once is ${settings.MAX_CONCURRENT_REPLIES}; wait for one to end`,
      { retryAfter: 5 },
    );
  const last = req.messages.at(-1)!.content;
  // The loop's request: a call has no conversation; its final write is tracked under CALLS.
  const loopReq: SendReplyRequest = {
    kind: "send",
    conversationId: CALLS,
    body: {
      content: last,
      model: c.model,
      max_tokens: req.max_tokens,
      temperature: req.temperature,
      reasoning_effort: req.reasoning_effort,
      tools: req.tools,
      tool_choice: req.tool_choice,
    },
    idempotencyKey: null,
    receivedAt: req.receivedAt,
    remainingMs: req.remainingMs,
  };
  const plan: ReplyPlan = {
    model: c.model,
    prompt: { messages: c.turns, input_tokens: c.inputTokens, omitted: 0 },
    budget: c.budget,
    outputLimit: c.outputLimit,
    retried: null,
    replyId: callId,
    maxDurationMs,
    reservation,
    secret,
  };
  const loopDeps: ReplyDeps = { ...deps, store: ledgerOnly(deps.store), provider: withSampling(deps.provider, req), turns: undefined };
  return new Reply(loopDeps, loopReq, plan, null, undefined, null);
}
