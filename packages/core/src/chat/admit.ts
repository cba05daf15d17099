// Admitting a reply: read the turn, plan the reply, and let begin_reply decide, in one round trip,
// what becomes of it. The database decides one reply at a time per conversation (409 with the
// streaming reply's id), that N concurrent sends with one Idempotency-Key make one model call, the
// day's budget (429), the cap on streaming replies (429), and, for a prompt built from kept history,
// that the conversation is still where it was. Only a created reply is reserved, so the other outcomes
// have nothing to give back.
import { randomUUID } from "node:crypto";
import { AppError } from "../errors";
import type { BeginResult } from "../ports";
import type { Message } from "../schemas";
import { defaultModel } from "../models";
import { servedModels, type ModelSnapshot } from "../model-catalog";
import { followReply } from "./follow";
import { answersCalls } from "./asked";
import { keyMismatch } from "./idempotency";
import { callModel } from "./model-call";
import { dayStart, overBudget, planReply } from "./plan";
import { Reply } from "./reply";
import { nextTurn } from "./next-turn";
import { writeTitle } from "./title";
import { readTurn, targetOf, type AdmittedTurn, type Target } from "./turn";
import { versionOf } from "./turn-cache";
import type { ReplyDeps, ReplyPlan, ReplyRequest, ReplyStream } from "./types";

/** A reply usually ends within seconds; a client told to come back sooner would only be refused again. */
const TOO_MANY_RETRY_S = 5;

/** Tries whose begin_reply checks the conversation is where the prompt saw it; the next one takes it as it is. */
const EXPECTING_TRIES = 2;

interface Try {
  /** A plain send may build its prompt from the history this instance kept. */
  useKept: boolean;
  /** A plain send's begin_reply checks the conversation is still where the prompt saw it. */
  expect: boolean;
}

/** One request on its way to a created reply (or a follower of one, or a refusal). */
export class Admission {
  private readonly target: Target;

  constructor(
    private readonly deps: ReplyDeps,
    private readonly req: ReplyRequest,
  ) {
    this.target = targetOf(req);
  }

  /**
   * A plain send's prompt stands only while the conversation is where it was read (or kept): on `moved`
   * nothing was stored and the model call was stopped, so it reads and plans again; the last try takes
   * the conversation as it is then, so a conversation that keeps moving still gets its reply.
   */
  async admit(): Promise<ReplyStream> {
    for (let tried = 0; tried <= EXPECTING_TRIES; tried++) {
      const reply = await this.try({ useKept: tried === 0, expect: tried < EXPECTING_TRIES });
      if (reply) return reply;
    }
    throw new Error("begin_reply answered moved to a send that asked for no check");
  }

  /** The reply to stream, or null when the conversation moved on from the prompt: nothing was stored. */
  private async try(attempt: Try): Promise<ReplyStream | null> {
    const { deps, req } = this;
    // The provider's model list, read off the request path: only a cold instance's first sends wait for it.
    const listed = servedModels(deps.provider.catalog);
    const turn = await readTurn(deps, req, this.target, attempt.useKept);
    const served = await listed;
    const plan = await planReply(deps, req, turn, randomUUID(), served);
    const today = dayStart(Date.now());
    const call = this.callsEarly(turn, plan, today) ? callModel(deps, req, plan) : undefined;
    // Let the request reach the socket before the database work (in-process PGlite holds the thread).
    if (call) await nextTurn();
    let decided: BeginResult;
    try {
      decided = await this.begin(turn, plan, attempt.expect);
    } catch (e) {
      call?.stop(e);
      deps.turns?.forget(req.conversationId);
      throw e;
    }
    // Whatever was decided, the kept history is out of date: a created reply is kept again once stored.
    deps.turns?.forget(req.conversationId);
    if (decided.status === "created") {
      deps.turns?.noteRoom(decided.budget_left, today);
      const branch = { conversation: turn.context.conversation, history: turn.history, asked: decided.user_message };
      return new Reply(deps, req, plan, branch, call, this.target.regen ? null : this.titleJob(turn, served));
    }
    call?.stop(new Error(`begin_reply: ${decided.status}`));
    if (decided.status === "moved") return null;
    if (decided.status === "attach") return this.follower(decided.reply.id, plan.maxDurationMs);
    if (decided.status === "tool_results") throw toolResultsRefused(req, decided);
    throw this.refusal(plan, decided, today);
  }

  /**
   * The model is called before begin_reply answers only for a plain send, and only when a refusal is
   * unlikely to waste the call: no reply streaming on the branch, no Idempotency-Key (a retry usually
   * attaches to its first reply), and room left in the user's budget as this instance last saw it
   * (UserTurns.mayCallEarly). An edit or a regenerate answers another branch, whose leaf says nothing of
   * a reply streaming elsewhere in the conversation: it waits for begin_reply. Nor does a send whose
   * tool results begin_reply would refuse (they do not answer the kept reply's calls). A refused send
   * stops the call before a byte of it reached the client.
   */
  private callsEarly(turn: AdmittedTurn, plan: ReplyPlan, today: number): boolean {
    const turns = this.deps.turns;
    return (
      turns !== undefined &&
      this.target.plain &&
      !turn.streaming &&
      answersCalls(turn.history.at(-1), turn.asked) &&
      turns.mayCallEarly(plan.reservation.tokens, this.deps.settings.DAILY_TOKEN_BUDGET, today)
    );
  }

  private begin(turn: AdmittedTurn, plan: ReplyPlan, expect: boolean): Promise<BeginResult> {
    const { deps, req } = this;
    const { key, regen, parent, plain } = this.target;
    return deps.store.beginReply({
      conversation_id: req.conversationId,
      user_message_id: randomUUID(),
      content: turn.asked.content,
      tool_result: turn.asked.tool_result,
      idempotency_key: key,
      reply_id: plan.replyId,
      model: deps.provider.modelLabel(plan.model),
      metadata: key ? { idempotency_key: key } : regen ? { regenerate_of: regen } : {},
      stale_ms: deps.settings.REPLY_STALE_MS,
      branch: parent?.branch ?? false,
      parent_id: parent?.parentId ?? null,
      answer_to: turn.answerTo?.id ?? null,
      input_tokens: plan.prompt.input_tokens,
      reservation: plan.reservation,
      expect: plain && expect ? versionOf(turn.context) : null,
      max_streaming: deps.settings.MAX_CONCURRENT_REPLIES,
    });
  }

  /** A second sender of one Idempotency-Key follows the first one's reply from the database. */
  private follower(replyId: string, maxDurationMs: number): ReplyStream {
    const deps = this.deps;
    return {
      run: async (emit, signal) => {
        const first = await deps.store.getReply(replyId, deps.settings.REPLY_STALE_MS);
        if (first) await followReply(deps, first, { after: null, maxDurationMs }, emit, signal);
        return null;
      },
    };
  }

  private refusal(plan: ReplyPlan, decided: Refused, today: number): AppError {
    const { settings, turns } = this.deps;
    switch (decided.status) {
      case "mismatch":
        return keyMismatch();
      case "done":
        return new AppError("conflict_error", "This Idempotency-Key was already used; the reply is stored", { replyId: decided.reply?.id });
      case "busy":
        return new AppError("conflict_error", "A reply is still streaming in this conversation; resume it or wait for it to end", {
          replyId: decided.reply.id,
        });
      case "over_budget":
        // No room as far as this instance knows now: the next sends wait for begin_reply again.
        turns?.noteRoom(0, today);
        return overBudget(settings, plan.reservation, plan.prompt.input_tokens, decided.used);
      case "too_many":
        turns?.noteAtCap();
        return new AppError(
          "rate_limit_error",
          `${decided.streaming} of your replies are already streaming, the most at once is ${settings.MAX_CONCURRENT_REPLIES}; wait for one to end or cancel one`,
          { retryAfter: TOO_MANY_RETRY_S },
        );
    }
  }

  /**
   * For a conversation that has no title and no finished reply yet: its title, written once the reply
   * is out. Failures only reach onTitleFailure.
   */
  private titleJob(turn: AdmittedTurn, served: ModelSnapshot | null): (() => Promise<void>) | null {
    const { deps } = this;
    const { conversation, history } = turn.context;
    const finished = (m: Message) => m.role === "assistant" && (m.finish_reason === "end_turn" || m.finish_reason === "max_tokens");
    if (conversation.title !== null || history.some(finished)) return null;
    const first = history.find((m) => m.role === "user")?.content || turn.asked.content;
    const titleDeps = {
      store: deps.store,
      provider: deps.provider,
      model: defaultModel(deps.settings, served),
      budget: { tokens: deps.settings.DAILY_TOKEN_BUDGET, since: new Date(dayStart(Date.now())).toISOString() },
      onFailure: deps.onTitleFailure,
    };
    return () => writeTitle(titleDeps, conversation.id, first);
  }
}

type Refused = Exclude<BeginResult, { status: "created" | "moved" | "attach" | "tool_results" }>;

/**
 * 422 for a message whose tool results do not answer the reply it follows: each result naming no call
 * of that reply, and each call left unanswered after a reply that stopped to have its tools run.
 */
function toolResultsRefused(req: ReplyRequest, d: Extract<BeginResult, { status: "tool_results" }>): AppError {
  const blocks = req.kind === "send" && typeof req.body.content !== "string" ? req.body.content : [];
  const calls = d.calls.length ? `the calls of the reply it follows are: ${d.calls.join(", ")}` : "the message it follows called no tools";
  const fields = d.unknown.map((id) => {
    const at = blocks.findIndex((b) => b.type === "tool_result" && b.tool_use_id === id);
    return { path: at >= 0 ? `body.content[${at}].tool_use_id` : "body.content", message: `"${id}" is not a tool_use id of the reply this message follows (${calls})` };
  });
  for (const id of d.missing) fields.push({ path: "body.content", message: `needs a tool_result for tool_use id "${id}"` });
  const message = d.unknown.length
    ? `tool_result for ${d.unknown.map((id) => `"${id}"`).join(", ")}, which the reply this message follows did not call (${calls})`
    : `The reply this message follows stopped to have its tools run: answer every call with a tool_result block (missing: ${d.missing.join(", ")})`;
  return new AppError("validation_error", message, { fields });
}
