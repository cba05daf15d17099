import { createHash, randomBytes, randomUUID } from "node:crypto";
import { AppError, conflict, notFound } from "../errors";
import type { BeginReservation, BeginResult, StoredReply, TurnContext, TurnParent } from "../ports";
import type { Message } from "../schemas";
import { defaultModel, isServed, modelInfo, notServedReason } from "../models";
import { servedModels, type ModelSnapshot } from "../model-catalog";
import { parseEventId } from "./events";
import { callModel } from "./model-call";
import { versionOf } from "./turn-cache";
import { followReply } from "./follow";
import { idempotencyKeyOf, keyMismatch, planSend, type SendPlan } from "./idempotency";
import { buildPrompt, estimateTokens, fitsWithoutCounting } from "./prompt";
import { nextTurn, runReply as produceReply } from "./run-reply";
import { writeTitle } from "./title";
import type { ReplyDeps, ReplyOutcome, ReplyPlan, ReplyRequest, ReplySettings, ReplyStream } from "./types";

/** Time kept back from the invocation's end for the final write and closing the stream. */
const FINISH_MARGIN_MS = 5_000;

/** How long a reply (or a follower) may run: the setting, within what is left of the invocation. */
export function durationCap(settings: Pick<ReplySettings, "REPLY_MAX_DURATION_MS">, remainingMs: number | undefined): number {
  const cap = settings.REPLY_MAX_DURATION_MS;
  return remainingMs === undefined ? cap : Math.max(1_000, Math.min(cap, remainingMs - FINISH_MARGIN_MS));
}

const DAY_MS = 86_400_000;
const dayStart = (now: number) => Math.floor(now / DAY_MS) * DAY_MS;

export function assertModelAllowed(model: string, allowed: string[]): void {
  if (!allowed.includes(model))
    throw new AppError("validation_error", `Model "${model}" is not allowed`, {
      fields: [{ path: "body.model", message: `must be one of: ${allowed.join(", ")}` }],
    });
}

/**
 * Everything that can refuse the request before a byte is streamed (404, 409, 422, 429). It sits in
 * front of the first token, so the model call starts as soon as the prompt is known and begin_reply
 * decides while the request travels: see startReplyWith.
 */
export async function startReply(deps: ReplyDeps, req: ReplyRequest): Promise<ReplyStream> {
  // The previous reply's stream may have ended a moment ago, with its final write still on its way.
  await deps.finishing?.settled(req.conversationId);
  const release = await deps.turns?.lock(req.conversationId);
  try {
    // A plain send's prompt stands only while the conversation is where it was read (or kept): on
    // `moved` nothing was stored and the model call was stopped, so read again; the last try takes the
    // conversation as it is then, so a conversation that keeps moving still gets its reply.
    return (
      (await startReplyWith(deps, req, { useKept: true, expect: true })) ??
      (await startReplyWith(deps, req, { useKept: false, expect: true })) ??
      (await startReplyWith(deps, req, { useKept: false, expect: false }))!
    );
  } finally {
    release?.();
  }
}

/**
 * One attempt. With `useKept`, a plain send (no branch, regenerate or Idempotency-Key) on a conversation
 * this instance kept builds its prompt without reading; with `expect`, a plain send's begin_reply checks
 * the conversation is still where the prompt saw it (null when it moved on). The model is called before
 * begin_reply answers only for a plain send, and only when a refusal is unlikely to waste the call: no
 * reply streaming on the branch, no Idempotency-Key (a retry usually attaches to its first reply), and
 * room left in the user's budget as this instance last saw it (UserTurns.mayCallEarly). (An edit or a
 * regenerate answers another branch, whose leaf says nothing of a reply streaming elsewhere in the
 * conversation: it waits for begin_reply.) A refused send stops the call before a byte of it reached
 * the client.
 */
async function startReplyWith(
  deps: ReplyDeps,
  req: ReplyRequest,
  { useKept, expect }: { useKept: boolean; expect: boolean },
): Promise<ReplyStream | null> {
  const { store, settings } = deps;
  // The provider's model list, read off the request path: only a cold instance's first sends wait for it.
  const listed = servedModels(deps.provider.catalog);
  // The prompt's history is the path from the root to the new message's parent (branches). A regenerate
  // reads the path down to the reply it replaces, then drops that reply and answers its user message again.
  const regen = req.kind === "regenerate" ? req.regenerateOf : null;
  const key = idempotencyKeyOf(req);
  const parentId = req.kind === "send" ? req.body.parent_id : undefined;
  const parent: TurnParent | undefined = regen
    ? { branch: true, parentId: regen }
    : parentId !== undefined
      ? { branch: true, parentId }
      : undefined;
  const historyLimit = settings.HISTORY_LIMIT + (regen ? 2 : 0);
  const plain = !regen && !parent && !key;
  const kept = useKept && plain ? deps.turns?.get(req.conversationId) : undefined;
  const turn: TurnContext | null = kept
    ? { conversation: kept.conversation, history: kept.history, idempotent: null, parent_found: true }
    : await store.prepareTurn(req.conversationId, {
        historyLimit,
        idempotencyKey: key,
        parent,
      });
  if (!turn) {
    deps.turns?.forget(req.conversationId);
    throw notFound("Conversation");
  }
  if (!turn.parent_found) {
    if (regen) throw notFound("Message");
    throw new AppError("validation_error", "parent_id is not a message of this conversation", {
      fields: [{ path: "body.parent_id", message: "must be the id of a message in this conversation" }],
    });
  }
  const leaf = turn.history.at(-1);
  const streaming = leaf?.role === "assistant" && leaf.finish_reason === null;
  if (plain && !kept && !streaming) deps.turns?.keep({ conversation: turn.conversation, history: turn.history }, settings.HISTORY_LIMIT);
  // What the reply answers: the new message, or a stored one (a retried send's, a regenerate's).
  let answerTo: Message | null = null;
  let send: SendPlan;
  let content: string;
  if (req.kind === "regenerate") {
    const replaced = turn.history.at(-1);
    const asked = turn.history.at(-2);
    if (replaced?.id !== req.regenerateOf || replaced.role !== "assistant" || asked?.role !== "user") throw notFound("Message");
    answerTo = asked;
    turn.history = turn.history.slice(0, -2);
    send = { retried: asked, history: turn.history };
    content = asked.content;
  } else {
    send = planSend(turn, req.body.content);
    content = req.body.content;
  }
  const served = await listed;
  const model = chooseModel(req.body.model, turn.conversation.model, settings, served);
  const effort = req.body.reasoning_effort;
  const info = modelInfo(model, served, settings.MODEL_CONTEXT_WINDOWS);
  if (effort !== undefined && !info.reasoning_efforts.includes(effort))
    throw new AppError("validation_error", `Model "${model}" does not take reasoning_effort "${effort}"`, {
      fields: [
        {
          path: "body.reasoning_effort",
          message: info.reasoning_efforts.length ? `must be one of: ${info.reasoning_efforts.join(", ")}` : `not supported by ${model}`,
        },
      ],
    });
  // Refused here, before anything is stored, rather than by the provider once the stream has begun.
  const cap = info.max_output_tokens;
  if (req.body.max_tokens !== undefined && cap !== null && req.body.max_tokens > cap)
    throw new AppError("validation_error", `Model "${model}" writes at most ${cap} tokens per reply`, {
      fields: [{ path: "body.max_tokens", message: `must be at most ${cap} for ${model}` }],
    });
  // Every upstream request carries an output limit: the client's, else the model's cap within
  // RESERVE_OUTPUT_TOKENS. The budget's reservation can count on the same figure (plan.outputLimit).
  const outputLimit = req.body.max_tokens ?? Math.min(cap ?? Infinity, settings.RESERVE_OUTPUT_TOKENS);

  const system = turn.conversation.system_prompt;
  // The budget never exceeds what the model can read, less the room its reply may take.
  const room = info.context_window === null ? Infinity : info.context_window - outputLimit;
  const budgetTokens = Math.max(1, Math.min(settings.CONTEXT_TOKEN_BUDGET, room));
  const count = fitsWithoutCounting(system, send.history, content, budgetTokens)
    ? estimateTokens
    : ((await deps.tokenizer?.(model)) ?? estimateTokens);
  const prompt = buildPrompt(system, send.history, content, budgetTokens, count);

  const replyId = randomUUID();
  const label = deps.provider.modelLabel(model);
  const maxDurationMs = durationCap(settings, req.remainingMs);
  // The send's worst case (the counted prompt plus max_tokens, or RESERVE_OUTPUT_TOKENS without one) is
  // reserved by begin_reply in the same round trip, only when it creates the reply: see reservationFor.
  const { reservation, secret } = reservationFor(settings, label, prompt.input_tokens + outputLimit);
  if (settings.DAILY_TOKEN_BUDGET > 0 && reservation.tokens > settings.DAILY_TOKEN_BUDGET) throw overBudget(settings, reservation, prompt.input_tokens);
  const today = dayStart(Date.now());
  const early = deps.turns !== undefined && plain && !streaming && deps.turns.mayCallEarly(reservation.tokens, settings.DAILY_TOKEN_BUDGET, today);
  const call = early ? callModel(deps, req, { model, prompt, outputLimit }) : undefined;
  // Let the request reach the socket before the database work (in-process PGlite holds the thread).
  if (call) await nextTurn();
  // The new branch, kept once the reply is stored: the next send on this instance needs no read.
  const history = send.history;
  let asked: Message | null = answerTo;
  const plan: ReplyPlan = {
    model,
    prompt,
    outputLimit,
    retried: send.retried,
    replyId,
    maxDurationMs,
    reservation: { reservation_id: reservation.reservation_id, secret },
    begin: async () => {},
    call,
    onStored: (reply) => {
      const done = reply.finish_reason === "end_turn" || reply.finish_reason === "max_tokens";
      // As prepare_turn returns it: reasoning never goes back into a prompt.
      if (done && asked && !send.retried)
        deps.turns?.keep({ conversation: turn.conversation, history: [...history, asked, { ...reply, reasoning: "" }] }, settings.HISTORY_LIMIT);
      else deps.turns?.forget(req.conversationId);
    },
  };
  // A regenerate answers a conversation that already had its first reply: no title to write.
  const runReply: Produce = regen ? produceReply : titleAfterFirstReply(deps, turn, content, defaultModel(settings, served));

  // The database decides, in one round trip: one reply at a time per conversation (409 with the
  // streaming reply's id), N concurrent sends with one Idempotency-Key make one model call, the day's
  // budget (429), and, for a prompt built from kept history, that the conversation is where it was.
  // Only a created reply is reserved, so the other outcomes have nothing to give back.
  let decided: BeginResult;
  try {
    decided = await store.beginReply({
      conversation_id: req.conversationId,
      user_message_id: randomUUID(),
      content,
      idempotency_key: key,
      reply_id: replyId,
      model: label,
      metadata: key ? { idempotency_key: key } : regen ? { regenerate_of: regen } : {},
      stale_ms: settings.REPLY_STALE_MS,
      branch: parent?.branch ?? false,
      parent_id: parent?.parentId ?? null,
      answer_to: answerTo?.id ?? null,
      input_tokens: prompt.input_tokens,
      reservation,
      expect: plain && expect ? versionOf(turn) : null,
      max_streaming: settings.MAX_CONCURRENT_REPLIES,
    });
  } catch (e) {
    call?.stop(e);
    deps.turns?.forget(req.conversationId);
    throw e;
  }
  // Whatever was decided, the kept history is out of date: a created reply is kept again once stored.
  deps.turns?.forget(req.conversationId);
  if (decided.status !== "created") call?.stop(new Error(`begin_reply: ${decided.status}`));
  switch (decided.status) {
    case "created":
      asked = decided.user_message;
      deps.turns?.noteRoom(decided.budget_left, today);
      return { run: (emit, signal, end) => runReply(deps, req, plan, emit, signal, end) };
    case "moved":
      return null;
    case "attach": {
      const id = decided.reply.id;
      return {
        run: async (emit, signal) => {
          const first = await store.getReply(id, settings.REPLY_STALE_MS);
          if (first) await followReply(deps, first, { after: null, maxDurationMs }, emit, signal);
          return null;
        },
      };
    }
    case "mismatch":
      throw keyMismatch();
    case "done":
      throw new AppError("conflict_error", "This Idempotency-Key was already used; the reply is stored", {
        replyId: decided.reply?.id,
      });
    case "busy":
      throw new AppError("conflict_error", "A reply is still streaming in this conversation; resume it or wait for it to end", {
        replyId: decided.reply.id,
      });
    case "over_budget":
      // No room as far as this instance knows now: the next sends wait for begin_reply again.
      deps.turns?.noteRoom(0, today);
      throw overBudget(settings, reservation, prompt.input_tokens, decided.used);
    case "too_many":
      deps.turns?.noteAtCap();
      throw new AppError(
        "rate_limit_error",
        `${decided.streaming} of your replies are already streaming, the most at once is ${settings.MAX_CONCURRENT_REPLIES}; wait for one to end or cancel one`,
        { retryAfter: TOO_MANY_RETRY_S },
      );
  }
}

/** A reply usually ends within seconds; a client told to come back sooner would only be refused again. */
const TOO_MANY_RETRY_S = 5;

/**
 * 429 for a send whose worst case does not fit what is left of the day's budget, with the figures: the
 * prompt and the output limit it reserves, and what is left (`used` unknown: before asking the
 * database, because the send could not fit even a fresh day). Retry-After points at the next UTC day.
 */
function overBudget(settings: ReplySettings, r: BeginReservation, promptTokens: number, used?: number): AppError {
  const budget = settings.DAILY_TOKEN_BUDGET;
  const needs = `This send needs up to ${r.tokens} tokens (a ${promptTokens}-token prompt plus ${r.tokens - promptTokens} for the reply)`;
  const message =
    used === undefined
      ? `${needs}, more than the daily token budget of ${budget}: shorten the conversation's system prompt or history, or lower max_tokens`
      : `${needs}; ${Math.max(0, budget - used)} of the daily token budget of ${budget} are left`;
  return new AppError("rate_limit_error", message, {
    retryAfter: Math.max(1, Math.ceil((Date.parse(r.since) + DAY_MS - Date.now()) / 1000)),
  });
}

/**
 * Every send is in the usage ledger from before the model is called: begin_reply reserves its worst
 * case (the counted prompt plus the output limit the upstream request carries) under a per-user lock,
 * only if it fits what is left of the day's budget; runReply settles it to the real figures. The settle secret is made here and
 * stays in this process: the database keeps only its SHA-256.
 */
function reservationFor(settings: ReplySettings, model: string, worstCase: number) {
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

type Produce = (...args: [...Parameters<typeof produceReply>, end?: () => void]) => Promise<ReplyOutcome>;

/**
 * The reply loop, followed (for a conversation that has no title and no finished reply yet) by its
 * title: after message_stop was written, so the reply never waits for it, but before the response ends,
 * so a client that re-reads its conversations when the stream closes finds the title (the playground
 * does); and before `run` resolves, so the invocation is not frozen with the request in flight.
 * Failures only reach onTitleFailure.
 */
function titleAfterFirstReply(deps: ReplyDeps, turn: TurnContext, content: string, model: string): Produce {
  const finished = (m: Message) => m.role === "assistant" && (m.finish_reason === "end_turn" || m.finish_reason === "max_tokens");
  if (turn.conversation.title !== null || turn.history.some(finished)) return produceReply;
  const first = turn.history.find((m) => m.role === "user")?.content ?? content;
  const titleDeps = {
    store: deps.store,
    provider: deps.provider,
    model,
    budget: { tokens: deps.settings.DAILY_TOKEN_BUDGET, since: new Date(dayStart(Date.now())).toISOString() },
    onFailure: deps.onTitleFailure,
  };
  return async (d, r, p, emit, signal, end) => {
    const outcome = await produceReply(d, r, p, emit, signal);
    await writeTitle(titleDeps, turn.conversation.id, first);
    end?.();
    return outcome;
  };
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
    if (!isServed(requested, served))
      throw new AppError("validation_error", `Model "${requested}" is not available now`, {
        fields: [{ path: "body.model", message: `${notServedReason(served!)}; GET /api/v1/models lists the models that are` }],
      });
    return requested;
  }
  return settings.ALLOWED_MODELS.includes(stored) && isServed(stored, served) ? stored : defaultModel(settings, served);
}

export interface MessageRef {
  conversationId: string;
  messageId: string;
}

async function ownReply(deps: Pick<ReplyDeps, "store" | "settings">, ref: MessageRef): Promise<StoredReply> {
  const row = await deps.store.getReply(ref.messageId, deps.settings.REPLY_STALE_MS);
  if (!row || row.conversation_id !== ref.conversationId) throw notFound("Message");
  return row;
}

/**
 * GET …/messages/{message_id}/stream: the reply's events after `lastEventId` (all of them without
 * one), then the live reply until it ends. 404 for anything but the caller's assistant message.
 */
export async function resumeReply(
  deps: ReplyDeps,
  ref: MessageRef & { lastEventId: string | null; remainingMs?: number | undefined },
): Promise<ReplyStream> {
  const after = ref.lastEventId ? parseEventId(ref.lastEventId) : null;
  if (ref.lastEventId && !after)
    throw new AppError("validation_error", "Last-Event-ID is not an event id of this API", {
      fields: [{ path: "header.last-event-id", message: "must be the id of an event this stream sent" }],
    });
  const first = await ownReply(deps, ref);
  const maxDurationMs = durationCap(deps.settings, ref.remainingMs);
  return {
    run: async (emit, signal) => {
      await followReply(deps, first, { after, maxDurationMs }, emit, signal);
      return null;
    },
  };
}

/**
 * POST …/messages/{message_id}/cancel. The producer, on whichever instance, reads the request on its
 * next flush and stops. 409 (naming the finish reason) when the reply already ended, also when it ended
 * a moment ago: a final write still in flight in this process is waited for, and request_cancel waits
 * for one in flight in the database, so a reply whose stream the client saw end is never "cancelling".
 */
export async function cancelReply(
  deps: Pick<ReplyDeps, "store" | "settings" | "finishing">,
  ref: MessageRef,
): Promise<{ id: string; status: "cancelling" }> {
  await deps.finishing?.settled(ref.conversationId);
  await ownReply(deps, ref);
  const r = await deps.store.requestCancel(ref.messageId, deps.settings.REPLY_STALE_MS);
  if (!r) throw notFound("Message");
  if (r.status === "ended") throw conflict(`The reply already ended (finish_reason: ${r.finish_reason})`);
  return { id: ref.messageId, status: "cancelling" };
}
