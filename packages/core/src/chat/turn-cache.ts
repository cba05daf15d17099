// Kept history, so the first token waits for no database round trip. A warm instance keeps,
// per conversation, the path its last send ended with (or the empty one of a conversation it just
// created). The next send builds its prompt from it and calls the model at once, while begin_reply
// checks under the conversation's row lock that the conversation is still where it was (its leaf,
// system prompt and model: p_expect). When it moved on (another instance answered, a branch switch, an
// edited system prompt), nothing is stored, the model call is stopped before a byte reached the
// client, and the send reads the history from the database. Authorization and the budget are decided by
// begin_reply exactly as without it; what the kept history may cost is a model call that is stopped.
import type { TurnVersion } from "../ports";
import type { Conversation, Message } from "../schemas";

export interface KeptTurn {
  conversation: Conversation;
  /** The current branch, oldest first, at most the history limit (the most recent messages). */
  history: Message[];
}

/** Conversations kept per process, and the characters of history they may hold. */
const MAX_TURNS = 500;
const MAX_CHARS = 4_000_000;
/** Users whose last known budget room is kept. */
const MAX_USERS = 10_000;

export const versionOf = (t: KeptTurn): TurnVersion => ({
  leaf: t.history.at(-1)?.id ?? null,
  leaf_open: t.history.at(-1)?.role === "assistant" && t.history.at(-1)?.finish_reason === null,
  system_prompt: t.conversation.system_prompt,
  model: t.conversation.model,
});

/** What a kept history holds: its messages' text, the calls replies made and the results user messages carried. */
const charsOf = (t: KeptTurn) =>
  t.history.reduce((n, m) => {
    n += m.content.length;
    for (const c of m.tool_use ?? []) n += c.id.length + c.name.length + (typeof c.input === "string" ? c.input.length : JSON.stringify(c.input ?? {}).length);
    for (const r of m.tool_result ?? []) n += r.tool_use_id.length + r.content.length;
    return n;
  }, 0);

/** One per process (a Lambda instance, the local runtime); least recently used entries go first. */
export class TurnCache {
  private readonly turns = new Map<string, { turn: KeptTurn; chars: number }>();
  private chars = 0;
  private readonly room = new Map<string, { left: number; day: number }>();
  /** Users whose last begin_reply here found them at the cap on streaming replies. */
  private readonly atCap = new Set<string>();
  /** Sends between their start and begin_reply's answer, in this process, by conversation. */
  private readonly starting = new Map<string, Promise<void>>();

  /** Waits for the conversation's other sends here to be decided; the caller releases its own turn. */
  async lock(key: string): Promise<() => void> {
    for (let p = this.starting.get(key); p; p = this.starting.get(key)) await p;
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    this.starting.set(key, mine);
    return () => {
      if (this.starting.get(key) === mine) this.starting.delete(key);
      release();
    };
  }

  forUser(userId: string): UserTurns {
    return new UserTurns(this, userId);
  }

  get(key: string): KeptTurn | undefined {
    const e = this.turns.get(key);
    if (!e) return undefined;
    this.turns.delete(key);
    this.turns.set(key, e);
    return e.turn;
  }

  keep(key: string, turn: KeptTurn): void {
    this.forget(key);
    const chars = charsOf(turn);
    if (chars > MAX_CHARS / 4) return;
    this.turns.set(key, { turn, chars });
    this.chars += chars;
    for (const [k] of this.turns) {
      if (this.turns.size <= MAX_TURNS && this.chars <= MAX_CHARS) break;
      this.forget(k);
    }
  }

  forget(key: string): void {
    const e = this.turns.get(key);
    if (!e) return;
    this.turns.delete(key);
    this.chars -= e.chars;
  }

  noteRoom(userId: string, left: number | null, day: number): void {
    this.room.delete(userId);
    if (left === null) return;
    this.room.set(userId, { left, day });
    if (this.room.size > MAX_USERS) this.room.delete(this.room.keys().next().value!);
  }

  noteCap(userId: string, full: boolean): void {
    this.atCap.delete(userId);
    if (!full) return;
    this.atCap.add(userId);
    if (this.atCap.size > MAX_USERS) this.atCap.delete(this.atCap.values().next().value!);
  }

  isAtCap(userId: string): boolean {
    return this.atCap.has(userId);
  }

  roomFor(userId: string, day: number): number {
    const r = this.room.get(userId);
    return r && r.day === day ? r.left : 0;
  }
}

/** The cache as one user's requests see it. */
export class UserTurns {
  constructor(
    private readonly cache: TurnCache,
    private readonly userId: string,
  ) {}

  private key(conversationId: string) {
    return `${this.userId}:${conversationId}`;
  }

  get(conversationId: string): KeptTurn | undefined {
    return this.cache.get(this.key(conversationId));
  }

  /** Keeps the conversation's current branch, the last `limit` messages of it. */
  keep(turn: KeptTurn, limit: number): void {
    this.cache.keep(this.key(turn.conversation.id), { conversation: turn.conversation, history: turn.history.slice(-limit) });
  }

  forget(conversationId: string): void {
    this.cache.forget(this.key(conversationId));
  }

  /**
   * Whether a send of `tokens` may call the model before begin_reply answered: not while this process
   * last saw the user at the cap on streaming replies; then always without a budget, and with one only
   * when this process last saw room for it today (begin_reply's budget_left). A user at the end of their
   * budget, or holding all the streams they may, costs at most one model call that is then stopped.
   */
  mayCallEarly(tokens: number, budget: number, day: number): boolean {
    if (this.cache.isAtCap(this.userId)) return false;
    return budget === 0 || this.cache.roomFor(this.userId, day) >= tokens;
  }

  /** What a created reply's begin_reply said of the budget; it also shows the user was under the cap. */
  noteRoom(left: number | null, day: number): void {
    this.cache.noteRoom(this.userId, left, day);
    this.cache.noteCap(this.userId, false);
  }

  /** begin_reply found the user at the cap on streaming replies. */
  noteAtCap(): void {
    this.cache.noteCap(this.userId, true);
  }

  /**
   * Sends of one conversation start one at a time in this process (until begin_reply decided): the
   * second of two sends at once then reads the first one's streaming reply and is refused (409)
   * without calling the model.
   */
  lock(conversationId: string): Promise<() => void> {
    return this.cache.lock(this.key(conversationId));
  }
}
