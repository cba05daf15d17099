// The ports the domain needs from the outside world. Adapters (SQL store, Supabase store, Groq, the
// offline model) live outside core and implement these.
import type { ModelCatalog } from "./model-catalog";
import type { ReasoningEffort } from "./models";
import type { Conversation, ConversationExport, FinishReason, ListedMessage, Message, Page, StoredToolResult, ToolChoice, ToolDefinition, User, UsageRow } from "./schemas";

export interface NewUser {
  email: string; // already normalised: trimmed, lower-case
  password_hash: string;
  display_name: string | null;
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined; // opaque, produced by the store
}

export interface TurnContext {
  conversation: Conversation;
  /** The most recent messages, oldest first, at most `historyLimit`. */
  history: Message[];
  /** Set when the request's idempotency key was already used in this conversation. */
  idempotent: { user_message: Message; reply: Message | null } | null;
  /** Whether the requested parent (an edit, a regenerate) is a message of this conversation. */
  parent_found: boolean;
}

/** Where a prompt's history ends (branches): the current leaf unless `branch`, then `parentId` (null: none). */
export interface TurnParent {
  branch: boolean;
  parentId: string | null;
}

/** A reply row as the reply loop reads it back: the message plus its cancel flag and its tool calls as stored (chat/tool-stream.ts). */
export type StoredReply = Message & { cancel_requested: boolean; tool_text?: string };

export interface BeginReply {
  conversation_id: string;
  /** Id for the user message when this send stores one. */
  user_message_id: string;
  /** The message's text ('' only beside tool results). */
  content: string;
  /** The tool results the message carries, stored with it in order; begin_reply checks they answer the calls of the reply it follows. */
  tool_result?: StoredToolResult[] | null;
  idempotency_key: string | null;
  reply_id: string;
  model: string;
  metadata: Record<string, unknown>;
  stale_ms: number;
  // ---- branches ----
  /** With `branch`, the new user message's parent (null: a new root); otherwise it follows the current leaf. */
  branch?: boolean;
  parent_id?: string | null;
  /** Regenerate: answer this stored user message again instead of storing one. */
  answer_to?: string | null;
  /** The prompt as sent (message_start's figure), stored with the row at once. */
  input_tokens?: number | null;
  /**
   * The ledger reservation of the send's worst case, made in the same transaction only when the reply
   * is created (over the budget: status over_budget, nothing stored). Without one nothing is reserved.
   */
  reservation?: BeginReservation | null;
  /**
   * The state a prompt built before this call assumed (a warm instance's kept history): when the
   * conversation moved on from it, status moved and nothing is stored.
   */
  expect?: TurnVersion | null;
  /** At most this many of the user's replies streaming at once (0 or absent: no cap); past it, too_many. */
  max_streaming?: number;
}

/** What a kept history stands for: the conversation's current leaf, system prompt and model. */
export interface TurnVersion {
  leaf: string | null;
  /** The leaf was a reply still streaming: the prompt holds only its text so far. */
  leaf_open?: boolean;
  system_prompt: string | null;
  model: string;
}

/** A reservation of the worst case a send may cost, made by beginReply before the model is called. */
export interface BeginReservation {
  /** Random id naming the reservation; settle_tokens takes it back. */
  reservation_id: string;
  model: string;
  tokens: number;
  /** 0 = no budget: always granted. */
  budget: number;
  /** Start of the budget's window (ISO). */
  since: string;
  /** SHA-256 (hex) of the settle secret, which only the reserving process holds. */
  secret_hash: string;
}

/** What begin_reply decided (see database/schema/50_replies.sql). */
export type BeginResult =
  /** budget_left: the day's budget less the ledger, this reservation included (null without a budget). */
  | { status: "created"; reply: Message; user_message: Message; budget_left: number | null }
  /** The conversation is not in the state `expect` named: nothing was stored. */
  | { status: "moved" }
  | { status: "attach"; reply: Message }
  | { status: "done"; reply: Message | null }
  | { status: "mismatch" }
  /** Another reply of the conversation is streaming: one at a time (409 with its id). */
  | { status: "busy"; reply: Message }
  /** The send's worst case does not fit what is left of the day's budget (429): nothing stored or reserved. */
  | { status: "over_budget"; used: number }
  /** The user already has max_streaming replies streaming (429): nothing was stored or reserved. */
  | { status: "too_many"; streaming: number }
  /**
   * The message's tool results do not answer the reply it follows (422), nothing stored: `unknown` are
   * results for no call of it, `missing` its calls left unanswered after it ended with stop_reason
   * tool_use; `calls` are its calls.
   */
  | { status: "tool_results"; unknown: string[]; missing: string[]; calls: string[] };

/** A call that stores nothing but its ledger entry (reserve_call in database/schema/40_access.sql). */
export interface ReserveCall {
  reservation: BeginReservation;
  /** At most this many of the user's replies and calls at once (0: no cap); past it, too_many. */
  max_streaming: number;
  /** A streaming reply whose heartbeat is older than this does not count (its producer is gone). */
  stale_ms: number;
  /** The call counts as open until settled, or this long at most (the longest it may run). */
  open_ms: number;
}

export type ReserveCallResult = { status: "reserved" } | { status: "over_budget"; used: number } | { status: "too_many"; streaming: number };

export interface FinishReply {
  id: string;
  /** The text, reasoning and tool text (chat/tool-stream.ts) not yet flushed. */
  text: string;
  reasoning: string;
  tool_text?: string;
  token_count: number | null;
  input_tokens: number | null;
  finish_reason: FinishReason;
  latency_ms: number;
  ttft_ms: number | null;
  metadata: Record<string, unknown>;
}

export interface FlushResult {
  /** Set when the reply was settled under the producer (a reader found it stale). */
  finish_reason: FinishReason | null;
  /** Someone asked for the reply to stop. */
  cancel: boolean;
}

export type CancelResult = { status: "accepted" } | { status: "ended"; finish_reason: FinishReason };

export interface UsageQuery {
  from: string; // ISO timestamp, inclusive
  to: string; // ISO timestamp, exclusive
  group_by: "day" | "model" | "kind";
}


// ---- access: budgets, API keys, sessions, throttling ----

export interface Settlement {
  reservation_id: string;
  secret: string;
  input_tokens: number;
  output_tokens: number;
  latency_ms: number | null;
  /** The model that answered, when it is not the one the reservation named. */
  model?: string | null;
}

export interface ApiKeyRecord {
  id: string;
  name: string | null;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

export type Rotation = { status: "ok"; user_id: string } | { status: "reused" | "invalid" };

export interface LoginThrottle {
  account: string;
  ip: string;
  windowSeconds: number;
  maxAccount: number;
  maxIp: number;
}

/** Operations on behalf of one signed-in user; the database's RLS policies scope every one of them. */
export interface UserStore {
  getUser(): Promise<User | null>;
  createConversation(input: { title: string | null; system_prompt: string | null; model: string }): Promise<Conversation>;
  /**
   * The conversation with this id, created (no title, `model`) when no conversation has it, for clients
   * that name conversations themselves; null when the id is another user's.
   */
  openConversation(id: string, input: { model: string }): Promise<{ conversation: Conversation; created: boolean } | null>;
  listConversations(page: PageRequest): Promise<Page<Conversation>>;
  getConversation(id: string): Promise<Conversation | null>;
  updateConversation(
    id: string,
    patch: { title?: string | null; system_prompt?: string | null },
  ): Promise<Conversation | null>;
  deleteConversation(id: string): Promise<boolean>;
  /** The current branch, root first, with each message's siblings. null when the conversation is not this user's. */
  listMessages(conversationId: string, page: PageRequest): Promise<Page<ListedMessage> | null>;
  /** Makes the branch through the message current; returns its leaf, null when the message is not in this user's conversation. */
  switchBranch(conversationId: string, messageId: string): Promise<string | null>;
  /** Everything needed before calling the model, in one round trip. null when the conversation is not this user's. */
  prepareTurn(
    conversationId: string,
    opts: { historyLimit: number; idempotencyKey: string | null; parent?: TurnParent | undefined },
  ): Promise<TurnContext | null>;
  // ---- durable replies (SQL functions begin_reply, flush_reply, finish_reply, get_reply, request_cancel) ----
  /** Stores the user message (unless the key's is reused) and the streaming reply row, or says why not. */
  beginReply(input: BeginReply): Promise<BeginResult>;
  /** Appends to a streaming reply and refreshes its heartbeat. null when it is not this user's. */
  flushReply(id: string, text: string, reasoning: string, toolText?: string): Promise<FlushResult | null>;
  /**
   * Appends the tail and settles the reply. null when it is not this user's. Called (like settleTokens)
   * right after the reply's last events were written to the client: the store orders the write so that
   * it neither holds those bytes back nor lags a next send from that client.
   */
  finishReply(input: FinishReply): Promise<Message | null>;
  /** This user's assistant message (a stale streaming one settled as error first). */
  getReply(id: string, staleMs: number): Promise<StoredReply | null>;
  /** Asks the producer of a streaming reply to stop. null when it is not this user's reply. */
  requestCancel(id: string, staleMs: number): Promise<CancelResult | null>;
  /** Settles this user's stale streaming replies in the conversation as error. */
  settleStaleReplies(conversationId: string, staleMs: number): Promise<number>;
  // ---- search, titles, export (SQL functions search_conversations, set_default_title, export_conversation) ----
  /** Conversations whose title or any message matches `query` (full-text), in the list's order and paging. */
  searchConversations(query: string, page: PageRequest): Promise<Page<Conversation>>;
  /** Sets the title only while the conversation has none. true when it did. */
  setDefaultTitle(conversationId: string, title: string): Promise<boolean>;
  /** The conversation with every message of every branch, oldest first. null when it is not this user's. */
  exportConversation(conversationId: string): Promise<ConversationExport | null>;
  /** Per group; `mean_latency_ms` unrounded, so totals over groups can be exact. */
  usage(query: UsageQuery): Promise<UsageRow[]>;
  /** Records a reservation's real usage, once. false when the secret is wrong or it was settled. */
  settleTokens(s: Settlement): Promise<boolean>;
  /** Reserves a title call's worst case, if it fits what is left of the budget. false: it does not. */
  reserveTitle(r: BeginReservation): Promise<boolean>;
  /** Reserves a call that stores nothing, within the day's budget and the cap on streaming replies. */
  reserveCall(input: ReserveCall): Promise<ReserveCallResult>;
  createApiKey(input: { name: string | null; prefix: string; key_hash: string; expires_at: string | null }): Promise<ApiKeyRecord>;
  /** Live (not revoked) keys, newest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** false when it is not this user's live key. */
  revokeApiKey(id: string): Promise<boolean>;
}

/** The credential a request presented, as a store may need it (prod branch). */
export interface UserCredential {
  /** A JWT PostgREST trusts: the user's own access token (signed with the key registered with Supabase). */
  accessToken?: string | undefined;
}

export interface Store {
  /** Pre-authentication: create an account. Throws AppError conflict_error (409) when the email is taken. */
  createUser(input: NewUser): Promise<User>;
  /** Pre-authentication: the account and its bcrypt hash, by normalised email. */
  findLogin(email: string): Promise<{ user: User; password_hash: string } | null>;
  /**
   * The user's data. `credential` is what a store that enforces access itself needs (the Supabase store
   * forwards `accessToken` to PostgREST); the SQL store, which runs as the API's own role, ignores it.
   */
  forUser(userId: string, credential?: UserCredential): UserStore;
  /** Server privileges (pre-auth paths): the account and its bcrypt hash, by id. */
  findLoginById(userId: string): Promise<{ user: User; password_hash: string } | null>;
  /** Starts a refresh-token family. */
  createSession(userId: string, tokenHash: string, expiresAt: string): Promise<void>;
  /** Spends a refresh token for a new one; a reused (already rotated) token revokes its family. */
  rotateSession(tokenHash: string, newHash: string, expiresAt: string): Promise<Rotation>;
  /** Revokes the token's family (sign-out). */
  revokeSession(tokenHash: string): Promise<boolean>;
  /** Revokes every refresh session of the user (sign out everywhere); how many were live. API keys stay. */
  revokeUserSessions(userId: string): Promise<number>;
  /** Sets the password hash and revokes every session of the user. */
  changePassword(userId: string, passwordHash: string): Promise<boolean>;
  /** The owner of a live API key with this SHA-256 hash, else null. Checked in the database every time. */
  authenticateApiKey(keyHash: string): Promise<string | null>;
  /** 0 when a login may be tried, else seconds until it may. */
  loginRetryAfter(t: LoginThrottle): Promise<number>;
  /** A failure counts against account and IP; a success clears the account's failures. */
  recordLogin(account: string, ip: string, ok: boolean): Promise<void>;
  /** Counts a registration and returns 0, or the seconds to wait (counting nothing). */
  registerAttempt(ip: string, windowSeconds: number, max: number): Promise<number>;
  health(): Promise<boolean>;
  close(): Promise<void>;
}

// ---- model provider ----

/** A tool call the model made, as it goes back to the model in a later prompt: its input as the JSON text it wrote. */
export interface ChatToolCall {
  id: string;
  name: string;
  input: string;
}

/**
 * One message of a prompt. Every turn has `content`, so what only reads text (counting, the offline
 * model) needs no case for tools; an assistant turn that called tools carries them (its text may be
 * empty), and a tool's result is a turn of its own answering the call it names, as Groq takes them.
 */
export type ChatTurn =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string; tool_calls?: ChatToolCall[] | undefined }
  | { role: "tool"; tool_use_id: string; content: string; is_error?: boolean | undefined };

export interface CompletionRequest {
  model: string;
  messages: ChatTurn[];
  /**
   * The most tokens the reply may have. Always set: an upstream request without a limit could run to
   * the model's cap (and the budget reserved less). Groq gets it as `max_completion_tokens`.
   */
  max_tokens: number;
  temperature?: number | undefined;
  /** Nucleus sampling and stop sequences, where a wire format's client sets them (chat/call.ts). */
  top_p?: number | undefined;
  stop?: string[] | undefined;
  /** Only for a model whose catalog entry lists the value (checked before the call). */
  reasoning_effort?: ReasoningEffort | undefined;
  /** Client tools the model may call (checked by the request schema); absent or empty: none. */
  tools?: ToolDefinition[] | undefined;
  tool_choice?: ToolChoice | undefined;
  signal: AbortSignal;
  /**
   * Called once the upstream has accepted the request (its response has started). The caller holds
   * back its own work until then, so nothing delays the request on its way out.
   */
  onAccepted?: () => void;
}

export interface CompletionUsage {
  input_tokens: number;
  output_tokens: number;
  /** Part of output_tokens, when the upstream reports it. */
  reasoning_tokens?: number;
  estimated: boolean;
}

/**
 * What a provider yields: reasoning deltas (from a reasoning model, before the answer), text deltas,
 * the tool calls (each a `tool_use` opening it, then `tool_input` pieces of its input's JSON; calls one
 * after another, never interleaved), then exactly one `finish` (or it throws an AppError).
 */
export type CompletionEvent =
  | { type: "reasoning"; text: string }
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string }
  | { type: "tool_input"; text: string }
  | {
      type: "finish";
      finish_reason: "end_turn" | "max_tokens" | "tool_use";
      usage: CompletionUsage | null;
      metadata: Record<string, unknown>;
    };

/** A one-piece answer and, where the upstream reported it, what it cost. */
export interface TextAnswer {
  text: string;
  usage?: { input_tokens: number; output_tokens: number };
}

export interface ModelProvider {
  readonly name: string;
  /** The models it serves now, with their windows and output caps; absent: unknown (the configuration stands in). */
  readonly catalog?: ModelCatalog;
  /** Label stored with the reply, e.g. "openai/gpt-oss-20b" or "offline-echo". */
  modelLabel(requested: string): string;
  complete(req: CompletionRequest): AsyncIterable<CompletionEvent>;
  /**
   * A short answer in one piece, without streaming (conversation titles). Absent where there is no
   * model to ask (the offline model): callers then do without.
   */
  completeText?(req: Omit<CompletionRequest, "onAccepted" | "temperature">): Promise<TextAnswer>;
}
