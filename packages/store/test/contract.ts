// The behaviour every Store adapter must have, written against the port only so the same suite can
// run against each database (and later adapters). `hooks` rewrite timestamps, which the port
// deliberately cannot do, to test ordering and date grouping deterministically.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type { AppError, FinishReply, Message, Store, UserStore } from "@conversation-api/core";

export interface ContractHooks {
  setConversationUpdatedAt(id: string, timestamptz: string): Promise<void>;
  setMessageCreatedAt(id: string, timestamptz: string): Promise<void>;
  /** Moves a reservation (both its ledger rows) to another time. */
  setLedgerTime(reservationId: string, timestamptz: string): Promise<void>;
  /**
   * The user's ledger total for reservations made at or after `since` (settled ones at their real
   * figures, open ones at their reservation), read with the owner's rights: no user may call a sum.
   */
  tokensUsedSince(userId: string, since: string): Promise<number>;
}

export interface ContractSetup {
  store: Store;
  hooks: ContractHooks;
}

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function expectAppError(p: Promise<unknown>, type: string, status: number): Promise<AppError> {
  const e = (await p.then(
    () => {
      throw new Error(`expected ${type}, but it resolved`);
    },
    (err: unknown) => err,
  )) as AppError;
  expect(e).toMatchObject({ name: "AppError", type, status });
  return e;
}

/** `setup` is called once before the suite; the caller owns the store's lifecycle (and closes it). */
export function describeStoreContract(name: string, setup: () => ContractSetup | Promise<ContractSetup>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let hooks: ContractHooks;

    beforeAll(async () => {
      ({ store, hooks } = await setup());
    });

    const email = () => `user-${randomUUID()}@example.com`;
    const newUser = async () => {
      const user = await store.createUser({ email: email(), password_hash: "$2a$10$hash", display_name: "Ada" });
      return { user, as: store.forUser(user.id) };
    };
    const newConversation = (as: UserStore, title: string | null = "Chat") =>
      as.createConversation({ title, system_prompt: "Be brief.", model: "openai/gpt-oss-20b" });
    /**
     * A send's reservation as the reply loop makes it: begin_reply (here in a fresh conversation, so no
     * other reply is streaming) reserves the worst case only when it creates the reply.
     */
    const reserveTokens = async (as: UserStore, r: { model: string; tokens: number; budget: number; since: string }) => {
      const secret = randomBytes(32).toString("hex");
      const reservation = { ...r, reservation_id: randomUUID(), secret_hash: createHash("sha256").update(secret).digest("hex") };
      const c = await newConversation(as);
      const out = await as.beginReply({
        conversation_id: c.id, user_message_id: randomUUID(), content: "Hi", idempotency_key: null,
        reply_id: randomUUID(), model: r.model, metadata: {}, stale_ms: 60_000, reservation,
      });
      if (out.status === "over_budget") return { ok: false as const, used: out.used };
      if (out.status !== "created") throw new Error(`expected created, got ${out.status}`);
      return { ok: true as const, reservation_id: reservation.reservation_id, secret };
    };
    /** One send's ledger entries: a reservation, then its settlement. Returns the reservation id. */
    const spend = async (
      as: UserStore,
      real: { input_tokens: number; output_tokens: number; latency_ms?: number | null; model?: string },
      reserved = 1000,
    ) => {
      const r = await reserveTokens(as, {
        model: real.model ?? "llama-3.1-8b-instant",
        tokens: reserved,
        budget: 0,
        since: new Date(Date.now() - 86_400_000).toISOString(),
      });
      if (!r.ok) throw new Error("reservation refused");
      expect(await as.settleTokens({ reservation_id: r.reservation_id, secret: r.secret, latency_ms: 300, ...real })).toBe(true);
      return r.reservation_id;
    };
    /**
     * One send as the reply loop stores it: begin_reply (the user message and the streaming reply),
     * then finish_reply with the reply's text and figures (`reply` overrides any of them).
     */
    const exchange = async (
      as: UserStore,
      conversationId: string,
      content: string,
      opts: { key?: string | null; reply?: Partial<Omit<FinishReply, "id">> } = {},
    ): Promise<[user: Message, reply: Message]> => {
      const r = await beginWith(as, conversationId, { content, idempotency_key: opts.key ?? null, model: "openai/gpt-oss-20b" });
      if (r.status !== "created") throw new Error(`expected created, got ${r.status}`);
      const finished = await as.finishReply({
        id: r.reply.id, text: "Hello!", reasoning: "", token_count: 5, input_tokens: 20, finish_reason: "end_turn",
        latency_ms: 300, ttft_ms: 40, metadata: {}, ...opts.reply,
      });
      if (!finished) throw new Error("finishReply found no reply");
      return [r.user_message, finished];
    };

    it("reports health", async () => {
      expect(await store.health()).toBe(true);
    });

    describe("accounts", () => {
      it("creates a user in the API shape", async () => {
        const address = email();
        const user = await store.createUser({ email: address, password_hash: "h", display_name: null });
        expect(user).toEqual({ id: expect.stringMatching(UUID), email: address, display_name: null, created_at: expect.stringMatching(ISO_Z) });
      });

      it("rejects a duplicate email regardless of case with a 409", async () => {
        const address = email();
        await store.createUser({ email: address, password_hash: "h", display_name: null });
        const e = await expectAppError(
          store.createUser({ email: address.toUpperCase(), password_hash: "h", display_name: null }),
          "conflict_error",
          409,
        );
        expect(e.message).toBe("Email is already registered");
      });

      it("finds the login by email, with the hash", async () => {
        const { user } = await newUser();
        expect(await store.findLogin(user.email)).toEqual({ user, password_hash: "$2a$10$hash" });
        expect(await store.findLogin(user.email.toUpperCase())).toEqual({ user, password_hash: "$2a$10$hash" });
        expect(await store.findLogin(email())).toBeNull();
      });

      it("returns the signed-in user", async () => {
        const { user, as } = await newUser();
        expect(await as.getUser()).toEqual(user);
        expect(await store.forUser(randomUUID()).getUser()).toBeNull();
      });
    });

    describe("conversations", () => {
      it("creates, reads, updates and deletes", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        expect(c).toEqual({
          id: expect.stringMatching(UUID),
          title: "Chat",
          system_prompt: "Be brief.",
          model: "openai/gpt-oss-20b",
          created_at: expect.stringMatching(ISO_Z),
          updated_at: c.created_at,
        });
        expect(await as.getConversation(c.id)).toEqual(c);

        const renamed = await as.updateConversation(c.id, { title: "Renamed" });
        expect(renamed).toMatchObject({ id: c.id, title: "Renamed", system_prompt: "Be brief." });
        expect(Date.parse(renamed!.updated_at)).toBeGreaterThanOrEqual(Date.parse(c.updated_at));

        const cleared = await as.updateConversation(c.id, { title: null, system_prompt: null });
        expect(cleared).toMatchObject({ title: null, system_prompt: null, model: c.model });
        expect(await as.getConversation(c.id)).toEqual(cleared);

        expect(await as.deleteConversation(c.id)).toBe(true);
        expect(await as.getConversation(c.id)).toBeNull();
        expect(await as.deleteConversation(c.id)).toBe(false);
        expect(await as.updateConversation(c.id, { title: "x" })).toBeNull();
      });

      it("treats ids that are not UUIDs as not found", async () => {
        const { as } = await newUser();
        expect(await as.getConversation("nope")).toBeNull();
        expect(await as.updateConversation("nope", { title: "x" })).toBeNull();
        expect(await as.deleteConversation("nope")).toBe(false);
        expect(await as.listMessages("nope", { limit: 5 })).toBeNull();
        expect(await as.prepareTurn("nope", { historyLimit: 5, idempotencyKey: null })).toBeNull();
      });

      it("deletes a conversation's messages with it, but not its usage", async () => {
        const { user, as } = await newUser();
        const c = await newConversation(as);
        await exchange(as, c.id, "hi");
        await spend(as, { input_tokens: 20, output_tokens: 5 });
        const since = new Date(Date.now() - 60_000).toISOString();
        const range = { from: since, to: new Date(Date.now() + 60_000).toISOString(), group_by: "model" as const };
        const before = await as.usage(range);
        expect(await hooks.tokensUsedSince(user.id, since)).toBe(25);
        expect(await as.deleteConversation(c.id)).toBe(true);
        expect(await as.listMessages(c.id, { limit: 10 })).toBeNull();
        expect(await hooks.tokensUsedSince(user.id, since)).toBe(25);
        expect(await as.usage(range)).toEqual(before);
      });

      it("pages by most recent activity without duplicates or gaps, stable under inserts", async () => {
        const { as } = await newUser();
        const made = [];
        for (let i = 0; i < 7; i++) made.push(await newConversation(as, `c${i}`));
        // Distinct past activity times: some clocks (PGlite's) tick in milliseconds, so rows
        // created back to back could tie and sort by id instead of creation order.
        for (let i = 0; i < made.length; i++) await hooks.setConversationUpdatedAt(made[i]!.id, `2020-01-01T00:00:0${i}Z`);
        const expected = [...made].reverse().map((c) => c.id);

        const seen: string[] = [];
        const first = await as.listConversations({ limit: 3 });
        seen.push(...first.data.map((c) => c.id));
        expect(first.next_cursor).toEqual(expect.any(String));

        // Activity after the first page must not shift later pages.
        const late = await newConversation(as, "late");

        let cursor = first.next_cursor;
        const sizes = [first.data.length];
        while (cursor) {
          const page = await as.listConversations({ limit: 3, cursor });
          sizes.push(page.data.length);
          seen.push(...page.data.map((c) => c.id));
          cursor = page.next_cursor;
        }
        expect(sizes).toEqual([3, 3, 1]);
        expect(seen).toEqual(expected);

        const fresh = await as.listConversations({ limit: 100 });
        expect(fresh.data.map((c) => c.id)).toEqual([late.id, ...expected]);
        expect(fresh.next_cursor).toBeNull();
      });

      it("keeps microsecond and tied timestamps apart across pages", async () => {
        const { as } = await newUser();
        const cs = [];
        for (let i = 0; i < 5; i++) cs.push(await newConversation(as, `c${i}`));
        // Three rows within the same millisecond, two of them identical: a millisecond cursor
        // would repeat or skip rows here.
        const stamps = [
          "2030-01-01T00:00:00.000001Z",
          "2030-01-01T00:00:00.000002Z",
          "2030-01-01T00:00:00.000002Z",
          "2030-01-01T00:00:00.000003Z",
          "2029-12-31T23:59:59.999999Z",
        ];
        for (let i = 0; i < cs.length; i++) await hooks.setConversationUpdatedAt(cs[i]!.id, stamps[i]!);

        const all = (await as.listConversations({ limit: 100 })).data.map((c) => c.id);
        expect(new Set(all).size).toBe(5);
        const tied = [cs[1]!.id, cs[2]!.id].sort().reverse();
        expect(all).toEqual([cs[3]!.id, ...tied, cs[0]!.id, cs[4]!.id]);

        for (const limit of [1, 2]) {
          const seen: string[] = [];
          let cursor: string | null | undefined;
          do {
            const page = await as.listConversations({ limit, cursor: cursor ?? undefined });
            seen.push(...page.data.map((c) => c.id));
            cursor = page.next_cursor;
          } while (cursor);
          expect(seen).toEqual(all);
        }
      });

      it("rejects invalid cursors with a 400", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        for (let i = 0; i < 3; i++) await exchange(as, c.id, `m${i}`);
        const messageCursor = (await as.listMessages(c.id, { limit: 1 }))!.next_cursor!;
        const conversationCursor = (await as.listConversations({ limit: 1 })).next_cursor;
        expect(conversationCursor).toBeNull();
        await newConversation(as);
        const realConversationCursor = (await as.listConversations({ limit: 1 })).next_cursor!;

        const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
        const bad = [
          "not a cursor",
          "%%%",
          b64([1, 2]),
          b64({ k: "c", t: "2024-02-30T00:00:00.000000Z", id: randomUUID() }),
          b64({ k: "c", t: "2024-01-01T00:00:00.000Z", id: randomUUID() }),
          b64({ k: "c", t: "2024-01-01T00:00:00.000000Z", id: "x' or 1=1" }),
          messageCursor,
        ];
        for (const cursor of bad) {
          await expectAppError(as.listConversations({ limit: 5, cursor }), "invalid_request_error", 400);
        }
        for (const cursor of ["nope", b64({ k: "m", s: "-1" }), b64({ k: "m", s: 5 }), realConversationCursor]) {
          await expectAppError(as.listMessages(c.id, { limit: 5, cursor }), "invalid_request_error", 400);
        }
      });

      it("hides one user's conversations from another", async () => {
        const a = await newUser();
        const b = await newUser();
        const c = await newConversation(a.as, "A's secret");
        await exchange(a.as, c.id, "private");

        expect(await b.as.getConversation(c.id)).toBeNull();
        expect(await b.as.updateConversation(c.id, { title: "pwned" })).toBeNull();
        expect(await b.as.deleteConversation(c.id)).toBe(false);
        expect(await b.as.listMessages(c.id, { limit: 10 })).toBeNull();
        expect(await b.as.prepareTurn(c.id, { historyLimit: 10, idempotencyKey: null })).toBeNull();
        expect((await b.as.listConversations({ limit: 100 })).data).toEqual([]);

        expect(await a.as.getConversation(c.id)).toMatchObject({ title: "A's secret" });
        expect((await a.as.listMessages(c.id, { limit: 10 }))!.data).toHaveLength(2);
      });

      it("opens a conversation by the caller's id: created once, then found; another user's id is null and left alone", async () => {
        const a = await newUser();
        const b = await newUser();
        const id = randomUUID();
        const first = await a.as.openConversation(id, { model: "openai/gpt-oss-20b" });
        expect(first).toEqual({
          created: true,
          conversation: { id, title: null, system_prompt: null, model: "openai/gpt-oss-20b", created_at: expect.stringMatching(ISO_Z), updated_at: expect.stringMatching(ISO_Z) },
        });
        expect(await a.as.openConversation(id, { model: "other" })).toEqual({ created: false, conversation: first!.conversation });
        expect(await b.as.openConversation(id, { model: "other" })).toBeNull();
        expect(await b.as.getConversation(id)).toBeNull();
        expect(await a.as.getConversation(id)).toEqual(first!.conversation);
        expect(await a.as.openConversation("not-a-uuid", { model: "m" })).toBeNull();
      });
    });

    describe("messages", () => {
      it("round-trips every field of both kinds of message", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const metadata = { history_omitted: 0, nested: { list: [1, "two", null], flag: true }, emoji: "✓ 👍", quote: "it's \"x\"" };
        const sent = await beginWith(as, c.id, { content: "What is 2+2?", idempotency_key: "key-1", model: "offline-echo" });
        if (sent.status !== "created") throw new Error(sent.status);
        const userMessage = sent.user_message;
        expect(userMessage).toEqual({
          id: expect.stringMatching(UUID),
          conversation_id: c.id,
          role: "user",
          content: "What is 2+2?",
          reasoning: "",
          model: null,
          token_count: null,
          input_tokens: null,
          finish_reason: null,
          latency_ms: null,
          ttft_ms: null,
          metadata: {},
          created_at: expect.stringMatching(ISO_Z),
          parent_id: null,
        });

        const stored = await as.finishReply({
          id: sent.reply.id,
          text: "4",
          reasoning: "",
          token_count: 1,
          input_tokens: 12,
          finish_reason: "max_tokens",
          latency_ms: 1234,
          ttft_ms: 56,
          metadata,
        });
        expect(stored).toEqual({
          id: sent.reply.id,
          conversation_id: c.id,
          role: "assistant",
          content: "4",
          reasoning: "",
          model: "offline-echo",
          token_count: 1,
          input_tokens: 12,
          finish_reason: "max_tokens",
          latency_ms: 1234,
          ttft_ms: 56,
          metadata,
          created_at: expect.stringMatching(ISO_Z),
          parent_id: userMessage.id,
        });

        // A reply stopped before it produced anything: no text, no figures but its latency.
        const [next, partial] = await exchange(as, c.id, "And 3+3?", {
          reply: { text: "", token_count: null, input_tokens: null, finish_reason: "cancelled", ttft_ms: null },
        });
        expect(partial).toMatchObject({ content: "", token_count: null, input_tokens: null, finish_reason: "cancelled", ttft_ms: null, metadata: {} });
        // Each send continues the current branch.
        expect(next.parent_id).toBe(stored!.id);

        const listed = await as.listMessages(c.id, { limit: 10 });
        const only = (m: Message) => ({ ...m, sibling_ids: [m.id], sibling_count: 1, sibling_index: 0 });
        expect(listed).toEqual({ data: [userMessage, stored!, next, partial].map(only), next_cursor: null });

        const after = await as.getConversation(c.id);
        expect(Date.parse(after!.updated_at)).toBeGreaterThanOrEqual(Date.parse(stored!.created_at));
      });

      it("pages messages oldest first, stable under appends", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const ids = [];
        for (let i = 0; i < 2; i++) ids.push(...(await exchange(as, c.id, `m${i}`)).map((m) => m.id));

        const p1 = (await as.listMessages(c.id, { limit: 2 }))!;
        expect(p1.data.map((m) => m.id)).toEqual(ids.slice(0, 2));
        ids.push(...(await exchange(as, c.id, "late")).map((m) => m.id));
        const p2 = (await as.listMessages(c.id, { limit: 2, cursor: p1.next_cursor! }))!;
        const p3 = (await as.listMessages(c.id, { limit: 2, cursor: p2.next_cursor! }))!;
        expect([...p2.data, ...p3.data].map((m) => m.id)).toEqual(ids.slice(2, 6));
        expect(p3.next_cursor).toBeNull();

        const empty = await newConversation(as);
        expect(await as.listMessages(empty.id, { limit: 5 })).toEqual({ data: [], next_cursor: null });
      });

      it("refuses to store a message in another user's conversation", async () => {
        const a = await newUser();
        const b = await newUser();
        const c = await newConversation(a.as);
        await expectAppError(exchange(b.as, c.id, "intrusion"), "not_found_error", 404);
        await expectAppError(exchange(b.as, randomUUID(), "nowhere"), "not_found_error", 404);
        expect((await a.as.listMessages(c.id, { limit: 10 }))!.data).toEqual([]);
        expect(await a.as.getConversation(c.id)).toMatchObject({ updated_at: c.updated_at });
      });

      it("refuses a reused idempotency key with other content in the same conversation, storing nothing; another conversation's key is its own", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const other = await newConversation(as);
        await exchange(as, c.id, "once", { key: "k" });
        expect(await beginWith(as, c.id, { content: "twice", idempotency_key: "k" })).toEqual({ status: "mismatch" });
        await exchange(as, other.id, "elsewhere", { key: "k" });
        expect((await as.listMessages(c.id, { limit: 10 }))!.data.map((m) => m.content)).toEqual(["once", "Hello!"]);
      });
    });

    describe("prepareTurn", () => {
      it("returns the conversation and the latest history, oldest first", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const empty = await as.prepareTurn(c.id, { historyLimit: 4, idempotencyKey: null });
        expect(empty).toEqual({ conversation: c, history: [], idempotent: null, parent_found: true });

        const all = [];
        for (let i = 0; i < 3; i++) all.push(...(await exchange(as, c.id, `q${i}`, { reply: { text: `a${i}` } })));
        const turn = await as.prepareTurn(c.id, { historyLimit: 4, idempotencyKey: null });
        expect(turn!.conversation.id).toBe(c.id);
        expect(turn!.history).toEqual(all.slice(2));
        expect(turn!.idempotent).toBeNull();
        expect((await as.prepareTurn(c.id, { historyLimit: 0, idempotencyKey: null }))!.history).toEqual([]);
      });

      it("stores a reply's reasoning apart from its text, and leaves it out of the history for prompts", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const [, saved] = await exchange(as, c.id, "q", { reply: { text: "42", reasoning: "Six times seven." } });
        expect(saved).toMatchObject({ content: "42", reasoning: "Six times seven." });
        expect((await as.listMessages(c.id, { limit: 10 }))!.data.map((m) => m.reasoning)).toEqual(["", "Six times seven."]);
        const turn = await as.prepareTurn(c.id, { historyLimit: 10, idempotencyKey: null });
        expect(turn!.history.map((m) => [m.content, m.reasoning])).toEqual([["q", ""], ["42", ""]]);
      });

      it("finds the earlier message and reply for a repeated idempotency key", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        await exchange(as, c.id, "before", { reply: { text: "noted" } });
        const sent = await beginWith(as, c.id, { content: "retry me", idempotency_key: "idem-1" });
        if (sent.status !== "created") throw new Error(sent.status);
        const first = sent.user_message;

        // Its reply still streaming: found, as it stands.
        const pending = await as.prepareTurn(c.id, { historyLimit: 10, idempotencyKey: "idem-1" });
        expect(pending!.idempotent).toEqual({ user_message: first, reply: sent.reply });
        expect(pending!.history.map((m) => m.content)).toEqual(["before", "noted", "retry me", ""]);

        const answer = await as.finishReply({
          id: sent.reply.id, text: "done", reasoning: "", token_count: 1, input_tokens: 1, finish_reason: "end_turn", latency_ms: 1, ttft_ms: 1, metadata: {},
        });
        await exchange(as, c.id, "next", { key: "idem-2", reply: { text: "later" } });

        const repeat = await as.prepareTurn(c.id, { historyLimit: 1, idempotencyKey: "idem-1" });
        expect(repeat!.idempotent).toEqual({ user_message: first, reply: answer });
        expect(repeat!.history.map((m) => m.content)).toEqual(["later"]);

        expect((await as.prepareTurn(c.id, { historyLimit: 1, idempotencyKey: "unused" }))!.idempotent).toBeNull();
        const other = await newConversation(as);
        expect((await as.prepareTurn(other.id, { historyLimit: 1, idempotencyKey: "idem-1" }))!.idempotent).toBeNull();
      });
    });

    describe("accounting", () => {
      const since = () => new Date(Date.now() - 60_000).toISOString();

      it("keeps in the ledger, per user and by reservation time, settled sends at their real figures and open ones at their reservation", async () => {
        const a = await newUser();
        const b = await newUser();
        const used = (when: string) => hooks.tokensUsedSince(a.user.id, when);
        expect(await used(since())).toBe(0);
        await spend(a.as, { input_tokens: 10, output_tokens: 5 });
        await spend(a.as, { input_tokens: 0, output_tokens: 7 });
        const old = await spend(a.as, { input_tokens: 1000, output_tokens: 1000 });
        await hooks.setLedgerTime(old, "2020-01-01T00:00:00Z");
        await spend(b.as, { input_tokens: 99, output_tokens: 99 });
        expect(await used(since())).toBe(22);
        expect(await used("2019-12-31T00:00:00Z")).toBe(2022);
        expect(await used(new Date(Date.now() + 60_000).toISOString())).toBe(0);
        expect(await hooks.tokensUsedSince(b.user.id, since())).toBe(198);

        const open = await reserveTokens(a.as, { model: "m", tokens: 500, budget: 0, since: since() });
        expect(open).toMatchObject({ ok: true });
        expect(await used(since())).toBe(522);
      });

      it("refuses a reservation once the budget is reached, and settles only with the secret, once", async () => {
        const { user, as } = await newUser();
        const reserve = (tokens: number) => reserveTokens(as, { model: "m", tokens, budget: 100, since: since() });
        const first = await reserve(60);
        // Admitted only while the ledger plus the reservation stays within the budget: 60 + 50 does not.
        expect(await reserve(50)).toEqual({ ok: false, used: 60 });
        const second = await reserve(40);
        expect(first.ok && second.ok).toBe(true);
        expect(await reserve(1)).toEqual({ ok: false, used: 100 });
        if (!first.ok) throw new Error("unreachable");
        const settle = { reservation_id: first.reservation_id, input_tokens: 1, output_tokens: 1, latency_ms: 5 };
        expect(await as.settleTokens({ ...settle, secret: "0".repeat(64) })).toBe(false);
        expect(await as.settleTokens({ ...settle, secret: first.secret })).toBe(true);
        expect(await as.settleTokens({ ...settle, secret: first.secret, output_tokens: 0 })).toBe(false);
        expect(await hooks.tokensUsedSince(user.id, since())).toBe(42);
        // Another user cannot settle it either.
        const other = await newUser();
        expect(await other.as.settleTokens({ ...settle, secret: first.secret })).toBe(false);
      });

      it("reserves in begin_reply only for a reply it creates; over the budget it stores nothing", async () => {
        const { user, as } = await newUser();
        const used = () => hooks.tokensUsedSince(user.id, since());
        const c = await newConversation(as);
        const secret = randomBytes(32).toString("hex");
        const reservation = (budget: number) => ({
          reservation_id: randomUUID(), model: "m", tokens: 40, budget, since: since(),
          secret_hash: createHash("sha256").update(secret).digest("hex"),
        });
        const send = (conversationId: string, budget: number, key: string | null = null) =>
          as.beginReply({
            conversation_id: conversationId, user_message_id: randomUUID(), content: "Hi", idempotency_key: key,
            reply_id: randomUUID(), model: "m", metadata: {}, stale_ms: 60_000, reservation: reservation(budget),
          });
        const first = reservation(0);
        const made = await as.beginReply({
          conversation_id: c.id, user_message_id: randomUUID(), content: "Hi", idempotency_key: "k1",
          reply_id: randomUUID(), model: "m", metadata: {}, stale_ms: 60_000, reservation: first,
        });
        expect(made.status).toBe("created");
        expect(await used()).toBe(40);
        // Attach (same key) and busy (another send) reserve nothing.
        expect((await send(c.id, 0, "k1")).status).toBe("attach");
        expect((await send(c.id, 0)).status).toBe("busy");
        expect(await used()).toBe(40);
        // At the budget: refused before anything is stored.
        const d = await newConversation(as);
        expect(await send(d.id, 40)).toEqual({ status: "over_budget", used: 40 });
        expect(await send(d.id, 79)).toEqual({ status: "over_budget", used: 40 });
        expect((await as.listMessages(d.id, { limit: 10 }))!.data).toEqual([]);
        expect(await used()).toBe(40);
        // A worst case that fits exactly what is left is admitted.
        const e = await newConversation(as);
        expect((await send(e.id, 80)).status).toBe("created");
        expect(await used()).toBe(80);
        // The reservation settles with the secret whose hash begin_reply stored.
        const settle = { reservation_id: first.reservation_id, input_tokens: 3, output_tokens: 2, latency_ms: 1 };
        expect(await as.settleTokens({ ...settle, secret })).toBe(true);
        expect(await used()).toBe(45);
      });

      it("caps a user's streaming replies across conversations; a stale one does not count, nothing is stored past the cap", async () => {
        const { as } = await newUser();
        const other = await newUser();
        const begin = (u: UserStore, conversationId: string, max: number, staleMs = 60_000) =>
          u.beginReply({
            conversation_id: conversationId, user_message_id: randomUUID(), content: "Hi", idempotency_key: null,
            reply_id: randomUUID(), model: "m", metadata: {}, stale_ms: staleMs, max_streaming: max,
          });
        const [c1, c2, c3] = [await newConversation(as), await newConversation(as), await newConversation(as)];
        const r1 = await begin(as, c1.id, 2);
        expect(r1.status).toBe("created");
        expect((await begin(as, c2.id, 2)).status).toBe("created");
        expect(await begin(as, c3.id, 2)).toEqual({ status: "too_many", streaming: 2 });
        expect((await as.listMessages(c3.id, { limit: 10 }))!.data).toEqual([]);
        // Another user's replies are theirs: their cap is not touched.
        expect((await begin(other.as, (await newConversation(other.as)).id, 1)).status).toBe("created");
        // No cap: admitted.
        expect((await begin(as, c3.id, 0)).status).toBe("created");
        const c4 = await newConversation(as);
        expect(await begin(as, c4.id, 3)).toEqual({ status: "too_many", streaming: 3 });
        // One ends: room again.
        if (r1.status !== "created") throw new Error("unreachable");
        await as.finishReply({ id: r1.reply.id, text: "ok", reasoning: "", token_count: 1, input_tokens: 1, finish_reason: "end_turn", latency_ms: 1, ttft_ms: 1, metadata: {} });
        expect((await begin(as, c4.id, 3)).status).toBe("created");
        // Replies whose heartbeat is older than the stale window have no producer and hold no stream.
        const c5 = await newConversation(as);
        expect((await begin(as, c5.id, 3, 0)).status).toBe("created");
      });

      it("settles a stale reply's reservation down to what it stored; the producer's own settle replaces that estimate", async () => {
        const { user, as } = await newUser();
        const used = () => hooks.tokensUsedSince(user.id, since());
        const c = await newConversation(as);
        const secret = randomBytes(32).toString("hex");
        const reservation = { reservation_id: randomUUID(), model: "m", tokens: 1000, budget: 0, since: since(), secret_hash: createHash("sha256").update(secret).digest("hex") };
        const made = await as.beginReply({
          conversation_id: c.id, user_message_id: randomUUID(), content: "Hi", idempotency_key: null,
          reply_id: randomUUID(), model: "m", metadata: {}, stale_ms: 60_000, input_tokens: 20, reservation,
        });
        if (made.status !== "created") throw new Error(`expected created, got ${made.status}`);
        // 9 bytes of text and 3 of reasoning: 4 tokens at one per 3 bytes.
        await as.flushReply(made.reply.id, "abcdefghi", "xyz");
        expect(await used()).toBe(1000);
        expect(await as.settleStaleReplies(c.id, 0)).toBe(1);
        expect(await used()).toBe(24);
        // Settling again changes nothing; the producer that was only slow settles with its real figures.
        expect(await as.settleStaleReplies(c.id, 0)).toBe(0);
        expect(await used()).toBe(24);
        const settle = { reservation_id: reservation.reservation_id, secret, input_tokens: 30, output_tokens: 5, latency_ms: 9 };
        expect(await as.settleTokens(settle)).toBe(true);
        expect(await used()).toBe(35);
        expect(await as.settleTokens({ ...settle, output_tokens: 0 })).toBe(false);
        expect(await used()).toBe(35);
      });

      it("reserves a title call only if it fits the budget, settles it under its own kind, and reports it apart", async () => {
        const { user, as } = await newUser();
        const used = () => hooks.tokensUsedSince(user.id, since());
        await spend(as, { model: "m", input_tokens: 50, output_tokens: 10 }, 60);
        const title = (tokens: number, budget: number) => {
          const secret = randomBytes(32).toString("hex");
          const r = { reservation_id: randomUUID(), model: "m", tokens, budget, since: since(), secret_hash: createHash("sha256").update(secret).digest("hex") };
          return { r, secret, reserved: as.reserveTitle(r) };
        };
        expect(await title(41, 100).reserved).toBe(false);
        expect(await used()).toBe(60);
        const t = title(40, 100);
        expect(await t.reserved).toBe(true);
        expect(await used()).toBe(100);
        expect(await as.settleTokens({ reservation_id: t.r.reservation_id, secret: t.secret, input_tokens: 12, output_tokens: 3, latency_ms: 50, model: "answered" })).toBe(true);
        expect(await used()).toBe(75);
        const range = { from: since(), to: new Date(Date.now() + 60_000).toISOString() };
        expect(await as.usage({ ...range, group_by: "kind" })).toEqual([
          { key: "reply", input_tokens: 50, output_tokens: 10, messages: 1, title_calls: 0, mean_latency_ms: 300 },
          { key: "title", input_tokens: 12, output_tokens: 3, messages: 0, title_calls: 1, mean_latency_ms: null },
        ]);
        // Grouped by the model that answered, which the settle names.
        expect((await as.usage({ ...range, group_by: "model" })).map((r) => r.key)).toEqual(["answered", "m"]);
      });

      it("reserves a call that stores nothing within the budget and the cap, which counts it (and begin_reply too) until it is settled", async () => {
        const { user, as } = await newUser();
        const used = () => hooks.tokensUsedSince(user.id, since());
        const reserve = (tokens: number, budget: number, max: number) => {
          const secret = randomBytes(32).toString("hex");
          const reservation = { reservation_id: randomUUID(), model: "m", tokens, budget, since: since(), secret_hash: createHash("sha256").update(secret).digest("hex") };
          return { reservation, secret, result: as.reserveCall({ reservation, max_streaming: max, stale_ms: 60_000, open_ms: 600_000 }) };
        };
        const begin = (max: number, conversationId: string) =>
          as.beginReply({
            conversation_id: conversationId, user_message_id: randomUUID(), content: "Hi", idempotency_key: null,
            reply_id: randomUUID(), model: "m", metadata: {}, stale_ms: 60_000, max_streaming: max,
          });
        expect(await reserve(101, 100, 0).result).toEqual({ status: "over_budget", used: 0 });
        expect(await used()).toBe(0);
        const open = reserve(40, 100, 1);
        expect(await open.result).toEqual({ status: "reserved" });
        expect(await used()).toBe(40);
        // The open call holds the one slot: another call, and a reply, are refused; without a cap both pass.
        expect(await reserve(10, 100, 1).result).toEqual({ status: "too_many", streaming: 1 });
        const c = await newConversation(as);
        expect(await begin(1, c.id)).toEqual({ status: "too_many", streaming: 1 });
        const free = reserve(10, 100, 0);
        expect(await free.result).toEqual({ status: "reserved" });
        // Settled, it no longer counts: the slot is free (the other open call is uncapped, and counts only against a cap of 1).
        for (const r of [open, free])
          expect(await as.settleTokens({ reservation_id: r.reservation.reservation_id, secret: r.secret, input_tokens: 5, output_tokens: 2, latency_ms: 9 })).toBe(true);
        expect(await used()).toBe(14);
        expect((await begin(1, c.id)).status).toBe("created");
        // …and now the streaming reply holds it.
        expect(await reserve(10, 100, 1).result).toEqual({ status: "too_many", streaming: 1 });
        const range = { from: since(), to: new Date(Date.now() + 60_000).toISOString() };
        expect(await as.usage({ ...range, group_by: "kind" })).toEqual([
          { key: "call", input_tokens: 10, output_tokens: 4, messages: 0, title_calls: 0, mean_latency_ms: null },
        ]);
      });

      it("reports settled usage per UTC day and per model", async () => {
        const a = await newUser();
        const b = await newUser();
        const at = async (when: string, real: { model: string; input_tokens: number; output_tokens: number; latency_ms: number | null }) =>
          hooks.setLedgerTime(await spend(a.as, real), when);
        await at("2024-03-01T00:00:00Z", { model: "m-b", input_tokens: 10, output_tokens: 1, latency_ms: 100 });
        await at("2024-03-01T23:59:59.999999Z", { model: "m-a", input_tokens: 20, output_tokens: 2, latency_ms: 201 });
        // 23:30 at UTC-5 is the next UTC day.
        await at("2024-03-01T23:30:00-05:00", { model: "m-a", input_tokens: 0, output_tokens: 4, latency_ms: 300 });
        await at("2024-03-03T12:00:00Z", { model: "m-b", input_tokens: 1, output_tokens: 0, latency_ms: 0 });
        await at("2024-03-04T00:00:00Z", { model: "m-b", input_tokens: 1000, output_tokens: 1000, latency_ms: 1 });
        await at("2024-02-29T23:59:59Z", { model: "m-b", input_tokens: 1000, output_tokens: 1000, latency_ms: 1 });
        // An open reservation is not usage yet.
        const open = await reserveTokens(a.as, { model: "m-a", tokens: 70, budget: 0, since: since() });
        if (open.ok) await hooks.setLedgerTime(open.reservation_id, "2024-03-02T10:00:00Z");
        await hooks.setLedgerTime(await spend(b.as, { model: "m-a", input_tokens: 5, output_tokens: 5 }), "2024-03-02T10:00:00Z");

        const range = { from: "2024-03-01T00:00:00Z", to: "2024-03-04T00:00:00Z" };
        expect(await a.as.usage({ ...range, group_by: "day" })).toEqual([
          { key: "2024-03-01", input_tokens: 30, output_tokens: 3, messages: 2, title_calls: 0, mean_latency_ms: 150.5 },
          { key: "2024-03-02", input_tokens: 0, output_tokens: 4, messages: 1, title_calls: 0, mean_latency_ms: 300 },
          { key: "2024-03-03", input_tokens: 1, output_tokens: 0, messages: 1, title_calls: 0, mean_latency_ms: 0 },
        ]);
        expect(await a.as.usage({ ...range, group_by: "model" })).toEqual([
          { key: "m-a", input_tokens: 20, output_tokens: 6, messages: 2, title_calls: 0, mean_latency_ms: 250.5 },
          { key: "m-b", input_tokens: 11, output_tokens: 1, messages: 2, title_calls: 0, mean_latency_ms: 50 },
        ]);
        expect(await a.as.usage({ from: "2025-01-01T00:00:00Z", to: "2025-02-01T00:00:00Z", group_by: "day" })).toEqual([]);
      });
    });

    describe("API keys", () => {
      it("creates, lists (never the hash) and revokes a user's keys; revoked keys stop authenticating", async () => {
        const a = await newUser();
        const b = await newUser();
        const hash = randomUUID().replace(/-/g, "").repeat(2);
        const key = await a.as.createApiKey({ name: "ci", prefix: "cak_abcd", key_hash: hash, expires_at: null });
        expect(key).toEqual({ id: expect.stringMatching(UUID), name: "ci", prefix: "cak_abcd", created_at: expect.stringMatching(ISO_Z), last_used_at: null, expires_at: null });
        expect(await a.as.listApiKeys()).toEqual([key]);
        expect(await b.as.listApiKeys()).toEqual([]);
        expect(await store.authenticateApiKey(hash)).toBe(a.user.id);
        expect((await a.as.listApiKeys())[0]!.last_used_at).toMatch(ISO_Z);
        expect(await b.as.revokeApiKey(key.id)).toBe(false);
        expect(await store.authenticateApiKey(hash)).toBe(a.user.id);
        expect(await a.as.revokeApiKey(key.id)).toBe(true);
        expect(await a.as.revokeApiKey(key.id)).toBe(false);
        expect(await store.authenticateApiKey(hash)).toBeNull();
        expect(await a.as.listApiKeys()).toEqual([]);
        expect(await a.as.revokeApiKey("nope")).toBe(false);
      });

      it("does not authenticate an expired key", async () => {
        const { as } = await newUser();
        const hash = randomUUID().replace(/-/g, "").repeat(2);
        await as.createApiKey({ name: null, prefix: "cak_x", key_hash: hash, expires_at: new Date(Date.now() - 1000).toISOString() });
        expect(await store.authenticateApiKey(hash)).toBeNull();
      });
    });

    describe("sessions", () => {
      const h = () => randomUUID().replace(/-/g, "").repeat(2);
      const later = () => new Date(Date.now() + 3_600_000).toISOString();

      it("rotates a refresh token; reusing a rotated one revokes the whole family", async () => {
        const { user } = await newUser();
        const [t1, t2, t3] = [h(), h(), h()];
        await store.createSession(user.id, t1, later());
        expect(await store.rotateSession(t1, t2, later())).toEqual({ status: "ok", user_id: user.id });
        expect(await store.rotateSession(t1, t3, later())).toEqual({ status: "reused" });
        expect(await store.rotateSession(t2, t3, later())).toEqual({ status: "invalid" });
        expect(await store.rotateSession(h(), t3, later())).toEqual({ status: "invalid" });
      });

      it("signs out a family, expires tokens, and revokes every session on a password change", async () => {
        const { user } = await newUser();
        const [a, b, c, d] = [h(), h(), h(), h()];
        await store.createSession(user.id, a, later());
        await store.createSession(user.id, b, later());
        await store.createSession(user.id, c, new Date(Date.now() - 1000).toISOString());
        expect(await store.revokeSession(a)).toBe(true);
        expect(await store.rotateSession(a, d, later())).toEqual({ status: "invalid" });
        expect(await store.rotateSession(c, d, later())).toEqual({ status: "invalid" });
        expect(await store.changePassword(user.id, "$2a$10$new")).toBe(true);
        expect(await store.rotateSession(b, d, later())).toEqual({ status: "invalid" });
        expect((await store.findLoginById(user.id))?.password_hash).toBe("$2a$10$new");
        expect(await store.findLoginById(randomUUID())).toBeNull();
      });

      it("signs out everywhere: every family of the user, counting the live ones, and no one else's", async () => {
        const [{ user }, other] = [await newUser(), await newUser()];
        const [a1, a2, b, expired, revoked, theirs, d] = [h(), h(), h(), h(), h(), h(), h()];
        // Family A rotated once (its spent token and its live successor are one session), family B
        // live, one family expired and one already signed out: two live sessions.
        await store.createSession(user.id, a1, later());
        expect(await store.rotateSession(a1, a2, later())).toMatchObject({ status: "ok" });
        await store.createSession(user.id, b, later());
        await store.createSession(user.id, expired, new Date(Date.now() - 1000).toISOString());
        await store.createSession(user.id, revoked, later());
        expect(await store.revokeSession(revoked)).toBe(true);
        await store.createSession(other.user.id, theirs, later());

        expect(await store.revokeUserSessions(user.id)).toBe(2);
        for (const t of [a2, b]) expect(await store.rotateSession(t, d, later())).toEqual({ status: "invalid" });
        // The spent token replayed is refused as invalid, not as reuse: nothing is left to revoke.
        expect(await store.rotateSession(a1, d, later())).toEqual({ status: "invalid" });
        expect(await store.revokeUserSessions(user.id)).toBe(0);
        expect(await store.rotateSession(theirs, d, later())).toEqual({ status: "ok", user_id: other.user.id });
        // The password is untouched: signing out is not a password change.
        expect((await store.findLoginById(user.id))?.password_hash).toBe("$2a$10$hash");
        expect(await store.revokeUserSessions(randomUUID())).toBe(0);
        expect(await store.revokeUserSessions("not-a-uuid")).toBe(0);
      });
    });

    describe("throttling", () => {
      it("counts failed logins per account and per IP, and clears the account on success", async () => {
        const account = email();
        const ip = `ip-${randomUUID()}`;
        const t = { account, ip, windowSeconds: 900, maxAccount: 3, maxIp: 5 };
        for (let i = 0; i < 3; i++) {
          expect(await store.loginRetryAfter(t)).toBe(0);
          await store.recordLogin(account, ip, false);
        }
        const wait = await store.loginRetryAfter(t);
        expect(wait).toBeGreaterThan(0);
        expect(wait).toBeLessThanOrEqual(900);
        await store.recordLogin(account, ip, true);
        expect(await store.loginRetryAfter(t)).toBe(0);
        // The IP's failures remain: two more from anywhere on it reach its limit.
        await store.recordLogin(email(), ip, false);
        await store.recordLogin(email(), ip, false);
        expect(await store.loginRetryAfter({ ...t, account: email() })).toBeGreaterThan(0);
      });

      it("counts registrations per IP and refuses past the limit without counting", async () => {
        const ip = `ip-${randomUUID()}`;
        expect(await store.registerAttempt(ip, 3600, 2)).toBe(0);
        expect(await store.registerAttempt(ip, 3600, 2)).toBe(0);
        expect(await store.registerAttempt(ip, 3600, 2)).toBeGreaterThan(0);
        expect(await store.registerAttempt(`ip-${randomUUID()}`, 3600, 2)).toBe(0);
      });
    });

    /** begin_reply with a send's usual arguments; `extra` overrides any of them. */
    const beginWith = (as: UserStore, conversationId: string, extra: Partial<Parameters<UserStore["beginReply"]>[0]> = {}) =>
      as.beginReply({
        conversation_id: conversationId,
        user_message_id: randomUUID(),
        content: "Hi",
        idempotency_key: null,
        reply_id: randomUUID(),
        model: "m",
        metadata: {},
        stale_ms: 60_000,
        ...extra,
      });

    describe("branches", () => {
      const MINUTE = 60_000;
      const begin = beginWith;
      const created = async (p: ReturnType<typeof begin>) => {
        const r = await p;
        if (r.status !== "created") throw new Error(`expected created, got ${r.status}`);
        return r;
      };
      const done = (as: UserStore, id: string, text = "ok") =>
        as.finishReply({ id, text, reasoning: "", token_count: 1, input_tokens: 7, finish_reason: "end_turn", latency_ms: 1, ttft_ms: 1, metadata: {} });
      const listed = async (as: UserStore, id: string) =>
        (await as.listMessages(id, { limit: 50 }))!.data.map((m) => ({ id: m.id, parent: m.parent_id, n: m.sibling_count, i: m.sibling_index, ids: m.sibling_ids }));

      it("links each message to the one before it, stores the prompt's input_tokens at once, and lists the current branch", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const a = await created(begin(as, c.id, { content: "one", input_tokens: 46 }));
        expect(a.reply).toMatchObject({ input_tokens: 46, parent_id: a.user_message.id });
        expect(a.user_message.parent_id).toBeNull();
        await done(as, a.reply.id);
        const b = await created(begin(as, c.id, { content: "two" }));
        expect(b.user_message.parent_id).toBe(a.reply.id);
        expect(await listed(as, c.id)).toEqual([
          { id: a.user_message.id, parent: null, n: 1, i: 0, ids: [a.user_message.id] },
          { id: a.reply.id, parent: a.user_message.id, n: 1, i: 0, ids: [a.reply.id] },
          { id: b.user_message.id, parent: a.reply.id, n: 1, i: 0, ids: [b.user_message.id] },
          { id: b.reply.id, parent: b.user_message.id, n: 1, i: 0, ids: [b.reply.id] },
        ]);
        // Pages walk the branch.
        const p1 = (await as.listMessages(c.id, { limit: 3 }))!;
        const p2 = (await as.listMessages(c.id, { limit: 3, cursor: p1.next_cursor! }))!;
        expect([...p1.data, ...p2.data].map((m) => m.id)).toEqual([a.user_message.id, a.reply.id, b.user_message.id, b.reply.id]);
        expect(p2.next_cursor).toBeNull();
      });

      it("regenerates a reply as a sibling, switches branches, and builds prompts from the path only", async () => {
        const { user, as } = await newUser();
        const c = await newConversation(as);
        // As the reply loop does (access's ledger): each reply reserves, and settles to its figures (7 in, 1 out).
        const charge = async () => {
          const r = await reserveTokens(as, { model: "m", tokens: 100, budget: 0, since: "2000-01-01T00:00:00Z" });
          if (!r.ok) throw new Error("reservation refused");
          expect(await as.settleTokens({ reservation_id: r.reservation_id, secret: r.secret, input_tokens: 7, output_tokens: 1, latency_ms: 1 })).toBe(true);
        };
        const a = await created(begin(as, c.id, { content: "q" }));
        await done(as, a.reply.id, "first");
        await charge();
        const again = await created(begin(as, c.id, { content: "q", answer_to: a.user_message.id }));
        expect(again.user_message.id).toBe(a.user_message.id);
        await done(as, again.reply.id, "second");
        await charge();
        const u = a.user_message.id;
        expect(await listed(as, c.id)).toEqual([
          { id: u, parent: null, n: 1, i: 0, ids: [u] },
          { id: again.reply.id, parent: u, n: 2, i: 1, ids: [a.reply.id, again.reply.id] },
        ]);
        // A send continues the current branch; its prompt never sees the other reply.
        const next = await created(begin(as, c.id, { content: "more" }));
        await done(as, next.reply.id);
        await charge();
        const turn = (await as.prepareTurn(c.id, { historyLimit: 10, idempotencyKey: null }))!;
        expect(turn.history.map((m) => m.content)).toEqual(["q", "second", "more", "ok"]);

        expect(await as.switchBranch(c.id, a.reply.id)).toBe(a.reply.id);
        expect((await listed(as, c.id)).map((m) => [m.id, m.i])).toEqual([[u, 0], [a.reply.id, 0]]);
        expect((await as.prepareTurn(c.id, { historyLimit: 10, idempotencyKey: null }))!.history.map((m) => m.content)).toEqual(["q", "first"]);
        // Switching by an ancestor follows the most recent child down to its leaf.
        expect(await as.switchBranch(c.id, u)).toBe(next.reply.id);
        expect((await listed(as, c.id)).map((m) => m.id)).toEqual([u, again.reply.id, next.user_message.id, next.reply.id]);
        // HISTORY_LIMIT keeps the most recent of the path.
        expect((await as.prepareTurn(c.id, { historyLimit: 2, idempotencyKey: null }))!.history.map((m) => m.content)).toEqual(["more", "ok"]);
        // A prompt for a given parent: the path to it.
        const to = (await as.prepareTurn(c.id, { historyLimit: 10, idempotencyKey: null, parent: { branch: true, parentId: a.reply.id } }))!;
        expect([to.parent_found, to.history.map((m) => m.content)]).toEqual([true, ["q", "first"]]);
        const none = (await as.prepareTurn(c.id, { historyLimit: 10, idempotencyKey: null, parent: { branch: true, parentId: randomUUID() } }))!;
        expect([none.parent_found, none.history]).toEqual([false, []]);
        // Usage counts every branch (the ledger, whatever branch is current: here not the first reply's).
        expect(await hooks.tokensUsedSince(user.id, "2000-01-01T00:00:00Z")).toBe(3 * 8);
      });

      it("starts a branch from an edited message (a new root too)", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const a = await created(begin(as, c.id, { content: "hello" }));
        await done(as, a.reply.id);
        const b = await created(begin(as, c.id, { content: "second" }));
        await done(as, b.reply.id);
        const edit = await created(begin(as, c.id, { content: "second, edited", branch: true, parent_id: a.reply.id }));
        expect(edit.user_message.parent_id).toBe(a.reply.id);
        const rows = await listed(as, c.id);
        expect(rows.map((m) => m.id)).toEqual([a.user_message.id, a.reply.id, edit.user_message.id, edit.reply.id]);
        expect(rows[2]).toMatchObject({ n: 2, i: 1, ids: [b.user_message.id, edit.user_message.id] });
        await done(as, edit.reply.id);
        const root = await created(begin(as, c.id, { content: "hello again", branch: true, parent_id: null }));
        expect(root.user_message.parent_id).toBeNull();
        expect((await listed(as, c.id))[0]).toMatchObject({ id: root.user_message.id, n: 2, i: 1 });
        await done(as, root.reply.id);
        await expect(begin(as, c.id, { branch: true, parent_id: randomUUID() })).rejects.toMatchObject({ status: 404 });
      });

      it("lets one reply stream at a time per conversation; an idempotent repeat still attaches; stale replies do not block", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const other = await newConversation(as);
        const a = await created(begin(as, c.id, { idempotency_key: "k1" }));
        const busy = await begin(as, c.id, { content: "again" });
        expect(busy).toMatchObject({ status: "busy", reply: { id: a.reply.id } });
        expect(await begin(as, c.id, { answer_to: a.user_message.id })).toMatchObject({ status: "busy" });
        expect(await begin(as, c.id, { idempotency_key: "k1" })).toMatchObject({ status: "attach", reply: { id: a.reply.id } });
        await created(begin(as, other.id));
        // A producer that went silent: with a zero stale window its reply is settled, and the send goes ahead.
        const next = await created(begin(as, c.id, { content: "after", stale_ms: 0 }));
        expect((await as.getReply(a.reply.id, MINUTE))!.finish_reason).toBe("error");
        expect(next.user_message.parent_id).toBe(a.reply.id);
      });

      it("begins only while the conversation is where a kept history says (p_expect): leaf, system prompt, model", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const at = (leaf: string | null, system_prompt: string | null = c.system_prompt, model = c.model) => ({ expect: { leaf, system_prompt, model } });
        const stored = async () => (await as.listMessages(c.id, { limit: 50 }))!.data.length;
        // A fresh conversation: its leaf is null.
        expect(await begin(as, c.id, at(randomUUID()))).toEqual({ status: "moved" });
        const a = await created(begin(as, c.id, { ...at(null), content: "one" }));
        await done(as, a.reply.id);
        expect(await stored()).toBe(2);
        // The leaf moved on (that reply); the old expectation is refused, nothing is stored.
        expect(await begin(as, c.id, { ...at(null), content: "two" })).toEqual({ status: "moved" });
        expect(await stored()).toBe(2);
        // A new system prompt or model is a move too, even at the same leaf.
        await as.updateConversation(c.id, { system_prompt: "Be kind." });
        expect(await begin(as, c.id, at(a.reply.id))).toEqual({ status: "moved" });
        expect(await begin(as, c.id, at(a.reply.id, "Be kind.", "other-model"))).toEqual({ status: "moved" });
        const b = await created(begin(as, c.id, { ...at(a.reply.id, "Be kind."), content: "two" }));
        expect(b.user_message.parent_id).toBe(a.reply.id);
        // A branch switch moves the leaf: a history kept at a regenerated reply no longer holds.
        await done(as, b.reply.id);
        const again = await created(begin(as, c.id, { answer_to: a.user_message.id }));
        await done(as, again.reply.id);
        expect(await as.switchBranch(c.id, b.reply.id)).toBe(b.reply.id);
        expect(await begin(as, c.id, at(again.reply.id, "Be kind."))).toEqual({ status: "moved" });
        expect(await stored()).toBe(4);
      });

      it("treats a prompt read while its leaf reply streamed as moved once that reply finished (p_expect.leaf_open)", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const a = await created(begin(as, c.id, { content: "one" }));
        const at = (leaf_open: boolean) => ({ expect: { leaf: a.reply.id, leaf_open, system_prompt: c.system_prompt, model: c.model } });
        // Still streaming: the one-reply-at-a-time answer, as without an expectation.
        expect(await begin(as, c.id, { ...at(true), content: "two" })).toMatchObject({ status: "busy" });
        await done(as, a.reply.id, "the whole answer");
        // Finished since the read: the prompt missed its text.
        expect(await begin(as, c.id, { ...at(true), content: "two" })).toEqual({ status: "moved" });
        expect((await created(begin(as, c.id, { ...at(false), content: "two" }))).user_message.parent_id).toBe(a.reply.id);
      });

      it("switches only within the caller's own conversation", async () => {
        const a = await newUser();
        const b = await newUser();
        const c = await newConversation(a.as);
        const r = await created(begin(a.as, c.id));
        expect(await b.as.switchBranch(c.id, r.reply.id)).toBeNull();
        expect(await a.as.switchBranch(c.id, randomUUID())).toBeNull();
        expect(await a.as.switchBranch("nope", r.reply.id)).toBeNull();
        expect(await b.as.listMessages(c.id, { limit: 5 })).toBeNull();
      });
    });

    describe("durable replies", () => {
      const MINUTE = 60_000;
      const begin = (as: UserStore, conversationId: string, extra: Partial<Parameters<UserStore["beginReply"]>[0]> = {}) =>
        beginWith(as, conversationId, { model: "llama-3.1-8b-instant", metadata: { k: 1 }, ...extra });

      it("begins a reply as a streaming row after the user message, flushes it in pieces and finishes it", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const r = await begin(as, c.id);
        if (r.status !== "created") throw new Error(r.status);
        expect(r.reply).toMatchObject({ role: "assistant", content: "", finish_reason: null, metadata: { k: 1 } });
        expect((await as.listMessages(c.id, { limit: 10 }))!.data.map((m) => [m.role, m.finish_reason])).toEqual([
          ["user", null],
          ["assistant", null],
        ]);
        expect(await as.flushReply(r.reply.id, "Hel", "why")).toEqual({ finish_reason: null, cancel: false });
        expect(await as.flushReply(r.reply.id, "lo ✓", "")).toEqual({ finish_reason: null, cancel: false });
        expect(await as.getReply(r.reply.id, MINUTE)).toMatchObject({ content: "Hello ✓", reasoning: "why", finish_reason: null, cancel_requested: false });
        const done = await as.finishReply({
          id: r.reply.id,
          text: "!",
          reasoning: "",
          token_count: 3,
          input_tokens: 9,
          finish_reason: "end_turn",
          latency_ms: 10,
          ttft_ms: 2,
          metadata: { done: true },
        });
        expect(done).toMatchObject({ content: "Hello ✓!", finish_reason: "end_turn", token_count: 3, metadata: { k: 1, done: true } });
        expect(await as.flushReply(r.reply.id, "late", "")).toEqual({ finish_reason: "end_turn", cancel: false });
        expect((await as.getReply(r.reply.id, MINUTE))!.content).toBe("Hello ✓!");
      });

      it("decides idempotent sends: attach while streaming, mismatch, retry after failure, done after completion", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const first = await begin(as, c.id, { idempotency_key: "k" });
        if (first.status !== "created") throw new Error(first.status);
        const again = await begin(as, c.id, { idempotency_key: "k" });
        expect(again).toMatchObject({ status: "attach", reply: { id: first.reply.id } });
        expect(await begin(as, c.id, { idempotency_key: "k", content: "other" })).toEqual({ status: "mismatch" });
        await as.finishReply({ id: first.reply.id, text: "", reasoning: "", token_count: 0, input_tokens: null, finish_reason: "error", latency_ms: 1, ttft_ms: null, metadata: {} });
        const retry = await begin(as, c.id, { idempotency_key: "k" });
        if (retry.status !== "created") throw new Error(retry.status);
        expect(retry.user_message.id).toBe(first.user_message.id);
        await as.finishReply({ id: retry.reply.id, text: "ok", reasoning: "", token_count: 1, input_tokens: 1, finish_reason: "end_turn", latency_ms: 1, ttft_ms: 1, metadata: {} });
        expect(await begin(as, c.id, { idempotency_key: "k" })).toMatchObject({ status: "done", reply: { id: retry.reply.id } });
        expect((await as.listMessages(c.id, { limit: 10 }))!.data.filter((m) => m.role === "user")).toHaveLength(1);
      });

      it("concurrent begins with one key create exactly one reply", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const results = await Promise.all(Array.from({ length: 6 }, () => begin(as, c.id, { idempotency_key: "same" })));
        expect(results.filter((r) => r.status === "created")).toHaveLength(1);
        expect(results.filter((r) => r.status === "attach")).toHaveLength(5);
        expect((await as.listMessages(c.id, { limit: 20 }))!.data).toHaveLength(2);
      });

      it("cancel: accepted while streaming (the producer reads it on its next flush), ended afterwards; others' replies are invisible", async () => {
        const { as } = await newUser();
        const other = await newUser();
        const c = await newConversation(as);
        const r = await begin(as, c.id);
        if (r.status !== "created") throw new Error(r.status);
        expect(await other.as.requestCancel(r.reply.id, MINUTE)).toBeNull();
        expect(await other.as.getReply(r.reply.id, MINUTE)).toBeNull();
        expect(await as.getReply(r.user_message.id, MINUTE)).toBeNull();
        expect(await as.requestCancel(r.reply.id, MINUTE)).toEqual({ status: "accepted" });
        expect(await as.flushReply(r.reply.id, "x", "")).toEqual({ finish_reason: null, cancel: true });
        await as.finishReply({ id: r.reply.id, text: "", reasoning: "", token_count: 1, input_tokens: 1, finish_reason: "cancelled", latency_ms: 1, ttft_ms: 1, metadata: {} });
        expect(await as.requestCancel(r.reply.id, MINUTE)).toEqual({ status: "ended", finish_reason: "cancelled" });
        await expect(other.as.beginReply({ conversation_id: c.id, user_message_id: randomUUID(), content: "x", idempotency_key: null, reply_id: randomUUID(), model: "m", metadata: {}, stale_ms: MINUTE })).rejects.toMatchObject({ status: 404 });
      });

      it("a reader settles a reply whose heartbeat is older than its stale window as error", async () => {
        const { as } = await newUser();
        const c = await newConversation(as);
        const r = await begin(as, c.id);
        if (r.status !== "created") throw new Error(r.status);
        await as.flushReply(r.reply.id, "partial", "");
        expect((await as.getReply(r.reply.id, MINUTE))!.finish_reason).toBeNull();
        expect(await as.settleStaleReplies(c.id, MINUTE)).toBe(0);
        // A window of 0 makes any heartbeat from an earlier transaction stale.
        expect(await as.settleStaleReplies(c.id, 0)).toBe(1);
        const settled = await as.getReply(r.reply.id, MINUTE);
        expect(settled).toMatchObject({ content: "partial", finish_reason: "error", metadata: { error: { type: "api_error" } } });
        // The producer, if it was only slow, finds out on its next flush and keeps the reader's verdict.
        expect(await as.flushReply(r.reply.id, "more", "")).toEqual({ finish_reason: "error", cancel: false });
        const fin = await as.finishReply({ id: r.reply.id, text: "", reasoning: "", token_count: 1, input_tokens: 1, finish_reason: "end_turn", latency_ms: 1, ttft_ms: 1, metadata: {} });
        expect(fin).toMatchObject({ finish_reason: "error", metadata: { error: { type: "api_error" } } });
      });
    });
    describe("search, titles, export", () => {
      const searchAll = async (as: UserStore, q: string, limit = 100) => {
        const ids: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await as.searchConversations(q, { limit, cursor });
          ids.push(...page.data.map((c) => c.id));
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
        return ids;
      };

      it("finds conversations by title or message text, whole words, any case, in the list's order", async () => {
        const { as } = await newUser();
        const byTitle = await newConversation(as, "Sourdough Starter notes");
        const byMessage = await newConversation(as, null);
        await exchange(as, byMessage.id, "How do I feed a sourdough starter?");
        const byReply = await newConversation(as, "Other");
        await exchange(as, byReply.id, "What should I bake?", { reply: { text: "A SOURDOUGH loaf needs time." } });
        const neither = await newConversation(as, "Bread");
        await exchange(as, neither.id, "sourdoughs are not the same word");
        await hooks.setConversationUpdatedAt(byTitle.id, "2021-01-01T00:00:03Z");
        await hooks.setConversationUpdatedAt(byMessage.id, "2021-01-01T00:00:02Z");
        await hooks.setConversationUpdatedAt(byReply.id, "2021-01-01T00:00:01Z");
        await hooks.setConversationUpdatedAt(neither.id, "2021-01-01T00:00:04Z");

        expect(await searchAll(as, "sourdough")).toEqual([byTitle.id, byMessage.id, byReply.id]);
        // websearch syntax: all words, a phrase, an exclusion, OR.
        expect(await searchAll(as, "sourdough starter")).toEqual([byTitle.id, byMessage.id]);
        expect(await searchAll(as, '"feed a sourdough"')).toEqual([byMessage.id]);
        expect(await searchAll(as, "sourdough -starter")).toEqual([byReply.id]);
        expect(await searchAll(as, "loaf or sourdoughs")).toEqual([neither.id, byReply.id]);
        // A conversation that matches in several messages appears once.
        await exchange(as, byMessage.id, "sourdough again");
        await hooks.setConversationUpdatedAt(byMessage.id, "2021-01-01T00:00:02Z");
        expect(await searchAll(as, "sourdough")).toEqual([byTitle.id, byMessage.id, byReply.id]);
        // Nothing to search for matches nothing (the API treats a blank q as no filter before this).
        expect(await searchAll(as, "!!!")).toEqual([]);
        expect(await searchAll(as, "nowhere-to-be-found")).toEqual([]);
      });

      it("pages search results with the list's cursors", async () => {
        const { as } = await newUser();
        const made = [];
        for (let i = 0; i < 5; i++) {
          const c = await newConversation(as, `topic ${i}`);
          await exchange(as, c.id, i % 2 === 0 ? "kiwi fruit" : "plain text");
          await hooks.setConversationUpdatedAt(c.id, `2022-01-01T00:00:0${i}.00000${i}Z`);
          made.push(c);
        }
        const expected = made.filter((_, i) => i % 2 === 0).reverse().map((c) => c.id);
        const first = await as.searchConversations("kiwi", { limit: 2 });
        expect(first.data.map((c) => c.id)).toEqual(expected.slice(0, 2));
        expect(first.data[0]).toMatchObject({ title: "topic 4", system_prompt: "Be brief.", created_at: expect.stringMatching(ISO_Z) });
        const second = await as.searchConversations("kiwi", { limit: 2, cursor: first.next_cursor! });
        expect(second).toEqual({ data: [expect.objectContaining({ id: expected[2] })], next_cursor: null });
        expect(await searchAll(as, "kiwi", 1)).toEqual(expected);
        await expectAppError(as.searchConversations("kiwi", { limit: 2, cursor: "garbage" }), "invalid_request_error", 400);
      });

      it("never finds another user's conversations", async () => {
        const a = await newUser();
        const b = await newUser();
        const c = await newConversation(a.as, "Private zebra");
        await exchange(a.as, c.id, "zebra crossing");
        expect(await searchAll(a.as, "zebra")).toEqual([c.id]);
        expect(await searchAll(b.as, "zebra")).toEqual([]);
      });

      it("sets a title only while there is none, without counting as activity", async () => {
        const { as } = await newUser();
        const c = await newConversation(as, null);
        expect(await as.setDefaultTitle(c.id, "First words")).toBe(true);
        const titled = await as.getConversation(c.id);
        expect(titled).toMatchObject({ title: "First words", updated_at: c.updated_at });
        expect(await as.setDefaultTitle(c.id, "Second")).toBe(false);
        const userSet = await newConversation(as, "Mine");
        expect(await as.setDefaultTitle(userSet.id, "Not yours")).toBe(false);
        expect((await as.getConversation(userSet.id))!.title).toBe("Mine");
        const other = await newUser();
        const theirs = await newConversation(other.as, null);
        expect(await as.setDefaultTitle(theirs.id, "pwned")).toBe(false);
        expect((await other.as.getConversation(theirs.id))!.title).toBeNull();
        expect(await as.setDefaultTitle("not-a-uuid", "x")).toBe(false);
      });

      it("exports a conversation with every message and its fields, oldest first; null for others", async () => {
        const { as } = await newUser();
        const c = await newConversation(as, "Export me");
        const [u, r] = await exchange(as, c.id, "Question", { reply: { text: "Answer", reasoning: "Thinking", metadata: { usage: { x: 1 } } } });
        const exported = await as.exportConversation(c.id);
        const { messages, ...conversation } = exported!;
        expect(conversation).toEqual(await as.getConversation(c.id));
        expect(messages).toEqual([u, r]);
        expect(messages.map((m) => m.parent_id)).toEqual([null, u.id]);
        expect(messages[1]).toMatchObject({ reasoning: "Thinking", metadata: { usage: { x: 1 } }, token_count: 5, input_tokens: 20 });
        const other = await newUser();
        expect(await other.as.exportConversation(c.id)).toBeNull();
        expect(await as.exportConversation(randomUUID())).toBeNull();
        expect(await as.exportConversation("nope")).toBeNull();
        const empty = await newConversation(as, null);
        expect((await as.exportConversation(empty.id))!.messages).toEqual([]);
      });
    });
  });
}
