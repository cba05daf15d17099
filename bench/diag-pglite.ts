// Scratch: cost of PGlite statements on the main thread.
import { openStore } from "@conversation-api/store";
import { median } from "./lib/stats";
const store = await openStore({ inMemory: true });
const sql = store.sql;
async function t(name: string, f: () => Promise<unknown>) {
  const xs: number[] = [];
  for (let i = 0; i < 300; i++) {
    const a = performance.now();
    await f();
    xs.push(performance.now() - a);
  }
  console.log(name.padEnd(40), median(xs.slice(50)).toFixed(3), "ms");
}
await t("select 1", () => sql.query("select 1"));
await t("select $1 (param)", () => sql.query("select $1::int", [1]));
await t("empty transaction", () => sql.transaction(async () => {}));
await t("tx + set_config", () => sql.transaction((tx) => tx.query("select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)", ['{"sub":"x"}'])));
await store.sql.close();

const s2 = await openStore({ inMemory: true });
const { randomUUID } = await import("node:crypto");
const user = await s2.createUser({ email: `a${Date.now()}@x.io`, password_hash: "x" } as any);
const us = s2.forUser(user.id);
const convs: string[] = [];
for (let i = 0; i < 300; i++) convs.push((await us.createConversation({ title: "t", system_prompt: null, model: "llama-3.1-8b-instant" } as any)).id);
let k = 0;
async function tc(name: string, f: (c: string) => Promise<unknown>) {
  const xs: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 100; i++) {
    const c = convs[k++ % convs.length]!;
    const a = performance.now();
    const u = process.cpuUsage();
    await f(c);
    const d = process.cpuUsage(u);
    xs.push(performance.now() - a);
    cpu.push((d.user + d.system) / 1000);
  }
  console.log(name.padEnd(40), "wall", median(xs.slice(20)).toFixed(3), "ms  cpu", median(cpu.slice(20)).toFixed(3), "ms");
}
k = 0;
await tc("prepareTurn", (c) => us.prepareTurn(c, { historyLimit: 100, idempotencyKey: null }));
k = 0;
await tc("saveUserMessage", (c) => us.saveUserMessage({ id: randomUUID(), conversation_id: c, content: "Say hello.", idempotency_key: null }));
k = 0;
await tc("prepareTurn (1 msg history)", (c) => us.prepareTurn(c, { historyLimit: 100, idempotencyKey: null }));
await tc("listConversations", () => us.listConversations({ limit: 20 } as any));
await tc("tx + set_config + select 1", () => s2.sql.transaction(async (tx) => { await tx.query("select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)", ['{"sub":"x"}']); await tx.query("select 1"); }));
await s2.close();

{
  const s3 = await openStore({ inMemory: true });
  const u = await s3.createUser({ email: `b${Date.now()}@x.io`, password_hash: "x", display_name: null });
  const c = (await s3.forUser(u.id).createConversation({ title: "t", system_prompt: null, model: "llama-3.1-8b-instant" } as any)).id;
  const MC = "id, conversation_id, role, content, model, token_count, input_tokens, finish_reason, latency_ms, ttft_ms, metadata, created_at";
  const Q = `select c.id as c_id, c.title as c_title, c.system_prompt as c_system_prompt, c.model as c_model,
                  c.created_at as c_created_at, c.updated_at as c_updated_at, m.*
             from public.conversations c
             left join lateral (
               (select 'history'::text as part, h.* from (
                  select ${MC}, seq from public.messages
                   where conversation_id = c.id order by seq desc limit $2
               ) h)
               union all
               (select 'user_message', ${MC}, seq from public.messages
                 where conversation_id = c.id and role = 'user' and idempotency_key = $3)
               union all
               (select 'reply', ${MC}, seq from public.messages
                 where conversation_id = c.id and role = 'assistant'
                   and seq > (select u.seq from public.messages u
                               where u.conversation_id = c.id and u.role = 'user' and u.idempotency_key = $3)
                 order by seq limit 1)
             ) m on true
            where c.id = $1`;
  const claims = JSON.stringify({ sub: u.id, role: "authenticated" });
  const setc = "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)";
  await t("prepareTurn query alone (as user, in tx)", () => s3.sql.transaction(async (tx) => { await tx.query(setc, [claims]); await tx.query(Q, [c, 100, null]); }));
  await s3.sql.exec(`prepare pt(uuid, int, text) as ${Q.replace(/\$1/g, "$1").replace(/\$2/g, "$2").replace(/\$3/g, "$3")}`);
  await t("same, PREPAREd (execute pt)", () => s3.sql.transaction(async (tx) => { await tx.query(setc, [claims]); await tx.query(`execute pt('${c}', 100, null)`); }));
  await t("EXPLAIN (plan only) of the query", () => s3.sql.transaction(async (tx) => { await tx.query(setc, [claims]); await tx.query(`explain ${Q}`, [c, 100, null]); }));
  await s3.close();
}
