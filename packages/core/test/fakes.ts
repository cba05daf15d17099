// Fakes behind core's own ports for unit tests of the reply loop: an in-memory UserStore that keeps the
// durable-reply rules of database/schema.sql (begin_reply, flush_reply, finish_reply, get_reply,
// request_cancel, settle_stale_replies), and a provider that plays a script on (fake) timers.
import { createHash, randomUUID } from "node:crypto";
import type {
  BeginReply,
  BeginReservation,
  ReserveCall,
  ReserveCallResult,
  BeginResult,
  CompletionEvent,
  CompletionRequest,
  Conversation,
  FinishReply,
  Message,
  ModelProvider,
  ReplyEvent,
  Settlement,
  StoredReply,
  UserStore,
} from "../src";
import { toolUseBlocks } from "../src";

type Row = StoredReply & { idempotency_key: string | null; heartbeat: number };

export class MemoryStore implements UserStore {
  rows: Row[] = [];
  conversation: Conversation = {
    id: randomUUID(),
    title: null,
    system_prompt: null,
    model: "m",
    created_at: new Date(0).toISOString(),
    updated_at: new Date(0).toISOString(),
  };
  flushes: { text: string; reasoning: string }[] = [];
  /** Set to hold every flush until the returned promise's resolver is called. */
  flushGate: Promise<void> | null = null;
  /** Holds beginReply until it resolves (to see what happens while the database decides). */
  beginGate: Promise<void> | null = null;
  /** Holds finishReply until it resolves (a final write on its way). */
  finishGate: Promise<void> | null = null;
  beginCalls = 0;
  prepareCalls = 0;

  private strip = (r: Row): Message => {
    const { cancel_requested: _c, idempotency_key: _k, heartbeat: _h, tool_text, ...m } = r;
    // As the SQL store reads a row: the calls as blocks, only on a reply that made some.
    return tool_text ? { ...m, tool_use: toolUseBlocks(tool_text) } : m;
  };
  private stored = (r: Row): StoredReply => {
    const { idempotency_key: _k, heartbeat: _h, ...m } = r;
    return { ...m };
  };
  /** A row as the store would write it, for tests that set up history written elsewhere. */
  row(init: Partial<Row> & Pick<Row, "id" | "role" | "content">): Row {
    return {
      conversation_id: this.conversation.id,
      model: null,
      token_count: null,
      input_tokens: null,
      finish_reason: null,
      latency_ms: null,
      ttft_ms: null,
      metadata: {},
      created_at: new Date().toISOString(),
      reasoning: "",
      cancel_requested: false,
      idempotency_key: null,
      heartbeat: Date.now(),
      parent_id: this.rows.at(-1)?.id ?? null,
      ...init,
    };
  }

  async getUser() {
    return null;
  }
  async createConversation(): Promise<Conversation> {
    return this.conversation;
  }
  async openConversation(id: string) {
    return id === this.conversation.id ? { conversation: this.conversation, created: false } : null;
  }
  async listConversations() {
    return { data: [this.conversation], next_cursor: null };
  }
  async searchConversations() {
    return { data: [], next_cursor: null };
  }
  async setDefaultTitle(id: string, title: string) {
    if (id !== this.conversation.id || this.conversation.title !== null) return false;
    this.conversation = { ...this.conversation, title };
    return true;
  }
  async exportConversation(id: string) {
    return id === this.conversation.id ? { ...this.conversation, messages: this.rows.map(this.strip) } : null;
  }
  async getConversation(id: string) {
    return id === this.conversation.id ? this.conversation : null;
  }
  async updateConversation() {
    return this.conversation;
  }
  async deleteConversation() {
    return true;
  }
  async listMessages(id: string) {
    // Linear: the reply loop's tests never branch (branches are tested on the SQL stores).
    const listed = this.rows.map(this.strip).map((m) => ({ ...m, sibling_ids: [m.id], sibling_count: 1, sibling_index: 0 }));
    return id === this.conversation.id ? { data: listed, next_cursor: null } : null;
  }
  async switchBranch(): Promise<string | null> {
    throw new Error("not used by the reply loop");
  }
  async prepareTurn(id: string, opts: { historyLimit: number; idempotencyKey: string | null }) {
    this.prepareCalls++;
    if (id !== this.conversation.id) return null;
    const u = this.rows.find((r) => r.role === "user" && opts.idempotencyKey && r.idempotency_key === opts.idempotencyKey);
    // As prepare_turn: reasoning never comes back into a prompt's history.
    const history = this.rows.map(this.strip).map((m) => ({ ...m, reasoning: "" }));
    return {
      conversation: this.conversation,
      history,
      idempotent: u ? { user_message: this.strip(u), reply: history.find((m) => m.role === "assistant" && this.rows.indexOf(u) < history.indexOf(m)) ?? null } : null,
      parent_found: true,
    };
  }
  async beginReply(input: BeginReply): Promise<BeginResult> {
    this.beginCalls++;
    await this.beginGate;
    // As begin_reply: a prompt built from kept history stands only while the conversation is where it was.
    const e = input.expect;
    const leaf = this.rows.at(-1);
    if (
      e &&
      (e.leaf !== (leaf?.id ?? null) ||
        e.system_prompt !== this.conversation.system_prompt ||
        e.model !== this.conversation.model ||
        (e.leaf_open && leaf?.finish_reason !== null))
    )
      return { status: "moved" };
    await this.settleStaleReplies(input.conversation_id, input.stale_ms);
    let user = input.idempotency_key ? this.rows.find((r) => r.role === "user" && r.idempotency_key === input.idempotency_key) : undefined;
    if (user) {
      if (user.content !== input.content) return { status: "mismatch" };
      const after = this.rows.slice(this.rows.indexOf(user) + 1);
      const reply = after.filter((r) => r.role === "assistant").at(-1);
      if (reply && reply.finish_reason === null) return { status: "attach", reply: this.strip(reply) };
      if (after.some((r) => r.role === "user") || reply?.finish_reason === "end_turn" || reply?.finish_reason === "max_tokens")
        return { status: "done", reply: reply ? this.strip(reply) : null };
    }
    // As begin_reply: one streaming reply per conversation.
    const busy = this.rows.find((r) => r.role === "assistant" && r.finish_reason === null);
    if (busy) return { status: "busy", reply: this.strip(busy) };
    // As begin_reply: a new message's tool results answer the calls of the reply it follows.
    if (!user && !input.answer_to) {
      const parent = this.rows.at(-1);
      const calls = parent?.role === "assistant" && parent.tool_text ? toolUseBlocks(parent.tool_text).map((c) => c.id) : [];
      const given = (input.tool_result ?? []).map((r) => r.tool_use_id);
      const unknown = given.filter((g) => !calls.includes(g));
      const missing = parent?.finish_reason === "tool_use" ? calls.filter((c) => !given.includes(c)) : [];
      if (unknown.length || missing.length) return { status: "tool_results", unknown, missing, calls };
    }
    // As begin_reply: the budget check and the reservation in one step, only for a reply it creates.
    const r = input.reservation;
    let left: number | null = null;
    if (r) {
      const used = this.ledgerTotal;
      if (r.budget > 0 && used + r.tokens > r.budget) return { status: "over_budget", used };
      this.ledger.set(r.reservation_id, { tokens: r.tokens, secret_hash: r.secret_hash, settled: null });
      left = r.budget > 0 ? r.budget - used - r.tokens : null;
    }
    if (!user) {
      user = this.row({
        id: input.user_message_id,
        role: "user",
        content: input.content,
        idempotency_key: input.idempotency_key,
        ...(input.tool_result ? { tool_result: input.tool_result } : {}),
      });
      this.rows.push(user);
    }
    const reply = this.row({ id: input.reply_id, role: "assistant", content: "", model: input.model, metadata: input.metadata, input_tokens: input.input_tokens ?? null, parent_id: user.id });
    this.rows.push(reply);
    return { status: "created", reply: this.strip(reply), user_message: this.strip(user), budget_left: left };
  }

  async flushReply(id: string, text: string, reasoning: string, toolText = "") {
    await this.flushGate;
    const r = this.rows.find((x) => x.id === id && x.role === "assistant");
    if (!r) return null;
    this.flushes.push({ text, reasoning });
    if (r.finish_reason === null) {
      r.content += text;
      r.reasoning += reasoning;
      r.tool_text = (r.tool_text ?? "") + toolText;
      r.heartbeat = Date.now();
    }
    return { finish_reason: r.finish_reason, cancel: r.cancel_requested };
  }

  async finishReply(input: FinishReply): Promise<Message | null> {
    await this.finishGate;
    const r = this.rows.find((x) => x.id === input.id);
    if (!r) return null;
    r.content += input.text;
    r.reasoning += input.reasoning;
    r.tool_text = (r.tool_text ?? "") + (input.tool_text ?? "");
    r.token_count = input.token_count;
    r.input_tokens = input.input_tokens;
    r.finish_reason ??= input.finish_reason;
    r.latency_ms = input.latency_ms;
    r.ttft_ms = input.ttft_ms;
    r.metadata = { ...input.metadata, ...r.metadata };
    r.heartbeat = Date.now();
    return this.strip(r);
  }

  async getReply(id: string, staleMs: number): Promise<StoredReply | null> {
    const r = this.rows.find((x) => x.id === id && x.role === "assistant");
    if (!r) return null;
    await this.settleStaleReplies(r.conversation_id, staleMs);
    return this.stored(r);
  }

  async requestCancel(id: string, staleMs: number) {
    const r = await this.getReply(id, staleMs);
    if (!r) return null;
    if (r.finish_reason) return { status: "ended" as const, finish_reason: r.finish_reason };
    this.rows.find((x) => x.id === id)!.cancel_requested = true;
    return { status: "accepted" as const };
  }

  async settleStaleReplies(_conversationId: string, staleMs: number) {
    let n = 0;
    for (const r of this.rows)
      if (r.role === "assistant" && r.finish_reason === null && r.heartbeat < Date.now() - staleMs) {
        r.finish_reason = "error";
        r.metadata = { ...r.metadata, error: { type: "api_error", message: "The reply stopped: the instance producing it went silent" } };
        n++;
      }
    return n;
  }

  /**
   * The usage ledger (access): beginReply checks and reserves in one step, as begin_reply does under
   * its lock; a settle replaces its reservation's worst case with the real figures, once.
   */
  ledger = new Map<string, { tokens: number; secret_hash: string; settled: Settlement | null }>();
  get ledgerTotal(): number {
    let n = 0;
    for (const r of this.ledger.values()) n += r.settled ? r.settled.input_tokens + r.settled.output_tokens : r.tokens;
    return n;
  }
  async settleTokens(s: Settlement): Promise<boolean> {
    const r = this.ledger.get(s.reservation_id);
    if (!r || r.secret_hash !== createHash("sha256").update(s.secret, "utf8").digest("hex") || r.settled) return false;
    r.settled = s;
    return true;
  }
  async reserveTitle(r: BeginReservation): Promise<boolean> {
    if (r.budget > 0 && this.ledgerTotal + r.tokens > r.budget) return false;
    this.ledger.set(r.reservation_id, { tokens: r.tokens, secret_hash: r.secret_hash, settled: null });
    return true;
  }
  async reserveCall(c: ReserveCall): Promise<ReserveCallResult> {
    const r = c.reservation;
    if (r.budget > 0 && this.ledgerTotal + r.tokens > r.budget) return { status: "over_budget", used: this.ledgerTotal };
    this.ledger.set(r.reservation_id, { tokens: r.tokens, secret_hash: r.secret_hash, settled: null });
    return { status: "reserved" };
  }
  async createApiKey(): Promise<never> {
    throw new Error("not used by the reply loop");
  }
  async listApiKeys() {
    return [];
  }
  async revokeApiKey() {
    return false;
  }

  async usage() {
    return [];
  }
}

export type Step =
  | { reasoning: string }
  | { text: string }
  | { wait: number }
  /** A tool call: its opening, then its input in one piece. */
  | { tool: { id: string; name: string; input: string } }
  | { finish: "end_turn" | "max_tokens" | "tool_use" };

/** Plays one script per call; records each request and whether its signal was aborted. */
export class ScriptedProvider implements ModelProvider {
  readonly name = "scripted";
  requests: CompletionRequest[] = [];
  constructor(private readonly scripts: Step[][]) {}
  modelLabel(requested: string) {
    return requested;
  }
  async *complete(req: CompletionRequest): AsyncGenerator<CompletionEvent> {
    this.requests.push(req);
    const script = this.scripts.shift() ?? [];
    req.onAccepted?.();
    for (const step of script) {
      if (req.signal.aborted) throw req.signal.reason;
      if ("wait" in step) await abortableSleep(step.wait, req.signal);
      else if ("reasoning" in step) yield { type: "reasoning", text: step.reasoning };
      else if ("text" in step) yield { type: "text", text: step.text };
      else if ("tool" in step) {
        yield { type: "tool_use", id: step.tool.id, name: step.tool.name };
        yield { type: "tool_input", text: step.tool.input };
      }
      else yield { type: "finish", finish_reason: step.finish, usage: { input_tokens: 3, output_tokens: 4, estimated: false }, metadata: {} };
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** An event as a client keeps it: the id it would send back as Last-Event-ID, the name, the payload. */
export type Seen = { id?: string; event: string; data: any };

/**
 * Collects a reply's events as a client would: copied when emitted, since the reply loop rewrites a
 * delta's object for the next delta.
 */
export function recorder() {
  const events: Seen[] = [];
  const emit = (e: ReplyEvent) => {
    const seen: Seen = { event: e.type, data: structuredClone(e.data) };
    if (e.id !== null) seen.id = String(e.id);
    events.push(seen);
  };
  return { events, emit };
}

export const deltaText = (events: Seen[], kind: "text_delta" | "thinking_delta" = "text_delta") =>
  events
    .filter((e) => e.event === "content_block_delta" && e.data.delta.type === kind)
    .map((e) => (kind === "text_delta" ? e.data.delta.text : e.data.delta.thinking))
    .join("");
