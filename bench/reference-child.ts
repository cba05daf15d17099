// The reference row: what many teams build instead of this service — the Vercel AI SDK's `streamText`
// (`ai` 6 + `@ai-sdk/groq`) served by Hono on Node, streaming the AI SDK's UI message stream (SSE,
// what `useChat` reads). No auth, no database: the floor a "thin gateway" costs. Alone in its process,
// pointed at the same Groq stand-in as the app under test. Bench-only (root devDependencies).
import type { AddressInfo } from "node:net";
import { createGroq } from "@ai-sdk/groq";
import { serve } from "@hono/node-server";
import { streamText } from "ai";
import { Hono } from "hono";
import { announceReady, serveIpc } from "./lib/ipc";

const baseURL = `${process.env.GROQ_BASE_URL}/openai/v1`;
const groq = createGroq({ apiKey: "gsk_bench", baseURL });

const app = new Hono();
app.post("/chat", async (c) => {
  const { content } = await c.req.json<{ content: string }>();
  const result = streamText({ model: groq("llama-3.1-8b-instant"), messages: [{ role: "user", content }], maxRetries: 0, onError: () => {} });
  return result.toUIMessageStreamResponse();
});

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise<void>((resolve) => (server.listening ? resolve() : server.once("listening", () => resolve())));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

serveIpc({
  cpu: () => process.cpuUsage(),
  stop: async () => {
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  },
});
announceReady(url);
