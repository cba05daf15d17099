// Scratch diagnosis (in-process): where do the milliseconds before the Groq call go?
import { forkTs, monotonicMs } from "./lib/ipc";
import { median } from "./lib/stats";

const groqChild = forkTs("groq-child.ts");
const groq = { url: (await groqChild.ready) as string };
Object.assign(process.env, { DATA_DIR: "memory://", JWT_SECRET: "x".repeat(40), GROQ_API_KEY: "k", GROQ_BASE_URL: groq.url });
const { installAwsLambdaGlobal, createLocalServer, silentLogger } = await import("@conversation-api/local");
installAwsLambdaGlobal();
const functions = await import("@conversation-api/functions");
const deps = await functions.getDeps();
const marks: Record<string, number> = {};
const mark = (k: string) => (marks[k] ??= monotonicMs());
const forUser = deps.store.forUser.bind(deps.store);
deps.store.forUser = (id: string) => {
  mark("handler_store");
  const s = forUser(id);
  const wrap = (name: "prepareTurn" | "saveUserMessage") => {
    const f = (s as any)[name].bind(s);
    (s as any)[name] = async (...a: unknown[]) => {
      if (name === "saveUserMessage" && process.env.DEFER === "immediate") await new Promise((r) => setImmediate(r));
      if (name === "saveUserMessage" && process.env.DEFER === "timeout") await new Promise((r) => setTimeout(r, 1));
      mark(`${name}_start`);
      try {
        return await f(...a);
      } finally {
        mark(`${name}_end`);
      }
    };
  };
  wrap("prepareTurn");
  wrap("saveUserMessage");
  return s;
};
const complete = deps.provider.complete.bind(deps.provider);
deps.provider.complete = (req) => (mark("complete_called"), complete(req));
const realFetch = globalThis.fetch;
globalThis.fetch = ((...a: Parameters<typeof fetch>) => {
  if (String(a[0] instanceof Request ? a[0].url : a[0]).includes("/openai/")) mark("sdk_fetch");
  return realFetch(...a);
}) as typeof fetch;
const server = createLocalServer({ routes: functions.routes, logger: silentLogger });
server.prependListener("request", () => mark("server_request"));
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const api = `http://127.0.0.1:${(server.address() as any).port}/api/v1`;
const { registerUser, createConversation, streamViaApp } = await import("./lib/client");
const token = await registerUser(api);
const all: Record<string, number[]> = {};
for (let i = 0; i < 150; i++) {
  const conv = await createConversation(api, token);
  await groqChild.request("enqueue", { count: 1, firstTokenDelayMs: 20, tokens: 3, gapMs: 0 });
  for (const k of Object.keys(marks)) delete marks[k];
  const t0 = monotonicMs();
  const r = await streamViaApp(api, conv, token, "Say hello.");
  if (!r.ok) throw new Error(r.error);
  marks.groq_arrival = (await groqChild.request<number[]>("arrivals", 1))[0]!;
  if (i < 30) continue;
  for (const [k, v] of Object.entries(marks)) (all[k] ??= []).push(v - t0);
  (all.ttft ??= []).push(r.ttft);
}
for (const [k, v] of Object.entries(all).sort((a, b) => median(a[1]) - median(b[1]))) console.log(k.padEnd(22), median(v).toFixed(3), "ms");
server.closeAllConnections();
server.close();
await functions.shutdown();
await groqChild.stop();
