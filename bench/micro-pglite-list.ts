// Micro-benchmark of `GET /conversations`'s store call alone on PGlite, in one process: CPU time per
// listConversations (20 rows) as the user, and how it splits between the transaction's statements.
// `npx tsx bench/micro-pglite-list.ts [calls=1000]`
import { openStore } from "../packages/store/src/index";

const calls = Number(process.argv[2] ?? 1000);
const store = await openStore({ inMemory: true });
const user = await store.createUser({ email: "bench@example.com", password_hash: "h", display_name: null });
const as = store.forUser(user.id);
for (let i = 0; i < 25; i++) await as.createConversation({ title: `c${i}`, system_prompt: null, model: "llama-3.1-8b-instant" } as never);

const time = async (name: string, fn: () => Promise<unknown>) => {
  for (let i = 0; i < 100; i++) await fn();
  const cpu = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < calls; i++) await fn();
  const u = process.cpuUsage(cpu);
  console.log(`${name.padEnd(40)} ${(((u.user + u.system) / calls) | 0).toString().padStart(6)} µs CPU/call  ${((performance.now() - t) * 1000 / calls).toFixed(0).padStart(6)} µs wall/call`);
};
const claims = JSON.stringify({ sub: user.id, role: "authenticated" });
await time("listConversations (store)", () => as.listConversations({ limit: 20 } as never));
await time("begin + commit only", () => store.sql.transaction(async () => {}));
await time("set_config in a transaction", () =>
  store.sql.transaction((tx) => tx.query("select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)", [claims])),
);
await time("select 1 (one round trip)", () => store.sql.query("select 1"));
const q = `select id, title, system_prompt, model, created_at, updated_at, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_ts from public.conversations order by updated_at desc, id desc limit $1`;
const asUser = (fn: (tx: import("../packages/store/src/sql").SqlTx) => Promise<unknown>) =>
  store.sql.transaction(async (tx) => {
    await tx.query("select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)", [claims]);
    return fn(tx);
  });
await time("list select, unprepared", () => asUser((tx) => tx.query(q, [21])));
await store.sql.exec(`prepare list_c(int) as ${q.replace("$1", "$1")}`);
await time("list select, prepared (EXECUTE)", () => asUser((tx) => tx.query("execute list_c(21)")));
await time("list select, no to_char", () => asUser((tx) => tx.query(q.replace(/, to_char\(.*\) as cursor_ts/, ""), [21])));
await store.close();
