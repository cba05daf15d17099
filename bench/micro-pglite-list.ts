// Micro-benchmark of `GET /conversations`'s store call alone on PGlite, in one process: CPU time per
// listConversations (20 rows) as the user, through the store's PGlite driver (packages/store/src/sql.ts:
// named prepared statements, one batch per statement, BEGIN batched with the first statement) and,
// interleaved in the same process, through PGlite's own query/transaction (the driver before).
// `npx tsx bench/micro-pglite-list.ts [calls=1000] [rounds=5]`
import { PGlite } from "@electric-sql/pglite";
import { createSqlStore, migrate, openStore, type SqlClient, type SqlTx } from "../packages/store/src/index";

const calls = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);

/** The driver as it was: PGlite's query (six backend calls, re-planned every time) and transaction. */
async function pgliteQueryClient(): Promise<SqlClient> {
  const db = await PGlite.create({ parsers: { 1184: (t: string) => t, 20: Number } });
  const wrap = (q: Pick<PGlite, "query" | "exec">): SqlTx => ({
    query: async <T>(text: string, params: unknown[] = []) => (await q.query<T>(text, params)).rows,
    exec: async (script: string) => void (await q.exec(script)),
  });
  const transaction: SqlClient["transaction"] = (fn) => db.transaction((tx) => fn(wrap(tx)));
  const queryAs: SqlClient["queryAs"] = (settings, text, params) =>
    transaction(async (tx) => {
      await tx.query(`select ${settings.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(", ")}`, settings.flat());
      return tx.query(text, params);
    });
  return { ...wrap(db), inProcess: true, transaction, queryAs, close: () => db.close() };
}

async function seeded(name: string, sql: SqlClient | null) {
  const store = sql ? (await migrate(sql), Object.assign(createSqlStore(sql), { sql })) : await openStore({ inMemory: true });
  const user = await store.createUser({ email: `bench-${name}@example.com`, password_hash: "h", display_name: null });
  const as = store.forUser(user.id);
  for (let i = 0; i < 25; i++) await as.createConversation({ title: `c${i}`, system_prompt: null, model: "llama-3.1-8b-instant" } as never);
  return { name, store, as };
}

const subjects = [await seeded("driver (prepared, batched)", null), await seeded("PGlite query/transaction", await pgliteQueryClient())];
const cpuPerCall = async (fn: () => Promise<unknown>) => {
  for (let i = 0; i < 200; i++) await fn();
  const cpu = process.cpuUsage();
  for (let i = 0; i < calls; i++) await fn();
  const u = process.cpuUsage(cpu);
  return (u.user + u.system) / calls;
};
const results = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
for (let r = 0; r < rounds; r++)
  for (const s of r % 2 ? [...subjects].reverse() : subjects) results.get(s.name)!.push(await cpuPerCall(() => s.as.listConversations({ limit: 20 } as never)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [name, xs] of results) console.log(`listConversations, ${name.padEnd(28)} ${median(xs).toFixed(0).padStart(6)} µs CPU/call (median of ${rounds}: ${xs.map((x) => x.toFixed(0)).join(", ")})`);
const [a, b] = [...results.values()];
console.log(`ratio ${(median(a!) / median(b!)).toFixed(2)}×`);
for (const s of subjects) await s.store.close();
