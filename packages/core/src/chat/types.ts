// The types the reply's modules share: what a reply depends on, what it is asked, what it emits. They
// live apart from the modules that use them so that those import each other in one direction only
// (stream-reply → admit → reply → model-call, record…; all → types). From chat/ this module imports only
// finishing.ts and turn-cache.ts, which import nothing of chat/.
import type { Config } from "../config";
import type { BeginReservation, ChatTurn, CompletionEvent, ModelProvider, UserStore } from "../ports";
import type { Message, RegenerateRequest, StreamEventData, StreamEventName, StreamRequest } from "../schemas";
import type { FinishingReplies } from "./finishing";
import type { UserTurns } from "./turn-cache";

export type TokenCounter = (text: string) => number;

export interface Prompt {
  messages: ChatTurn[];
  /** Tokens of the prompt as counted here (an estimate of what the model will report). */
  input_tokens: number;
  /** History messages left out because they did not fit the budget. */
  omitted: number;
}

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
  | "MAX_CONCURRENT_REPLIES"
  | "FLUSH_INTERVAL_MS"
  | "REPLY_STALE_MS"
  | "REPLY_MAX_DURATION_MS"
  | "DISCONNECT_CANCELS"
  | "SERVER_TOOLS"
>;

export interface ReplyDeps {
  store: UserStore;
  provider: ModelProvider;
  settings: ReplySettings;
  /** Loads the model's tokenizer; only called when a count matters (long histories, missing usage). */
  tokenizer?: (model: string) => Promise<TokenCounter>;
  /** Told, for logs, when a reply fails after the stream began (not when the client left) or cannot be stored. */
  onFailure?: (failure: ReplyFailure) => void;
  /** Told, for a quiet log line, when the conversation's title could not be written by the model or stored. */
  onTitleFailure?: (error: unknown) => void;
  /** This process's replies whose stream ended and whose final write is in flight (one per process). */
  finishing?: FinishingReplies;
  /** This process's kept histories, as the caller sees them (turn-cache.ts). */
  turns?: UserTurns;
}

interface ReplyRequestBase {
  conversationId: string;
  /** performance.now() when the request arrived: latency and time to first token count from here. */
  receivedAt: number;
  /** What is left of the invocation (context.getRemainingTimeInMillis on Lambda); caps the reply. */
  remainingMs?: number | undefined;
}

/** POST …/messages: a new user message (or, with the same Idempotency-Key, a retry of one) and its reply. */
export interface SendReplyRequest extends ReplyRequestBase {
  kind: "send";
  body: StreamRequest;
  idempotencyKey: string | null;
}

/** POST …/messages/{message_id}/regenerate: the stored user message answered again, as a new sibling reply. */
export interface RegenerateReplyRequest extends ReplyRequestBase {
  kind: "regenerate";
  body: RegenerateRequest;
  /** The assistant message to answer again. */
  regenerateOf: string;
}

export type ReplyRequest = SendReplyRequest | RegenerateReplyRequest;

/**
 * One event of a reply, as the domain emits it; an encoder at the edge writes it in a wire format.
 * `data` is the event's payload as our stream's `data:` JSON carries it (schemas/stream-events.ts), and
 * `id` its event id (events.ts: the position a client resumes from); ping and error have none.
 *
 * An event is valid only until the next one is emitted: the reply loop reuses one object for every
 * delta of a kind, so a consumer reads (or encodes) an event synchronously and copies what it keeps.
 */
export type ReplyEvent = {
  [N in StreamEventName]: { type: N; id: N extends "ping" | "error" ? null : number; data: StreamEventData<N> };
}[StreamEventName];

export interface ReplyStream {
  /**
   * Streams the reply's events through `emit` and stores it. Never throws: a failure becomes an
   * `error` event, and the partial reply is stored either way. `signal` aborts when the client leaves
   * (where the runtime can tell). `end`, when given, is called once the client has the whole reply and
   * only work it does not wait for (the title) is left.
   */
  run(emit: (event: ReplyEvent) => void, signal: AbortSignal, end?: () => void): Promise<ReplyOutcome | null>;
}

/** The upstream request of a reply (model-call.ts). */
export interface ModelCall {
  iterator: AsyncIterator<CompletionEvent>;
  /** The first event (or the failure); already asked for, so the request is on its way. */
  first: Promise<IteratorResult<CompletionEvent>>;
  controller: AbortController;
  /** Resolves once the upstream accepted the request (or failed). */
  accepted: Promise<void>;
  /** Stops a call whose reply will not be produced (begin_reply refused it, or it moved on). */
  stop(reason: unknown): void;
}

export interface ReplyPlan {
  model: string;
  prompt: Prompt;
  /** The tokens the prompt was fitted into: what the next send's prompt will count again of this history. */
  budget: number;
  /** The reply's output limit: the client's max_tokens, else the model's cap within RESERVE_OUTPUT_TOKENS. */
  outputLimit: number;
  /** The stored user message a retried send or a regenerate answers again (nothing new is stored for it). */
  retried: Message | null;
  replyId: string;
  /** Longest the reply may run before it stops the model itself. */
  maxDurationMs: number;
  /** The ledger reservation begin_reply makes; settled once when the reply ends, however it ends. */
  reservation: BeginReservation;
  /** What settles the reservation: only this process holds it. */
  secret: string;
}

export interface ReplyFailure {
  conversationId: string;
  replyId: string;
  error: unknown;
  /** Whether any text had reached the client. */
  partial: boolean;
}

export interface ReplyOutcome {
  stored: Message | null;
  /** Database writes this reply made: the row's creation, the flushes, the final write. */
  writes: number;
}
