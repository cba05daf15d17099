// The real app pointed at the loopback Groq server: one of each per test file (settings are read once
// per process), plus the small helpers the Groq suites share.
import { startGroqServer, type GroqServer, type GroqServerOptions } from "../fixtures/groq-server";
import { startApp, type TestApp } from "../support/app";
import { call, type SseEvent } from "../support/http";

/** A recognisable key, so a test can assert that it never leaks. */
export const GROQ_KEY = "gsk_loopback_0123456789abcdefSECRET";

export interface GroqApp {
  app: TestApp;
  groq: GroqServer;
  close(): Promise<void>;
}

export async function startGroqApp(env: Record<string, string> = {}, server: GroqServerOptions = {}): Promise<GroqApp> {
  const groq = await startGroqServer(server);
  const app = await startApp({ GROQ_API_KEY: GROQ_KEY, GROQ_BASE_URL: groq.url, ...env });
  return {
    app,
    groq,
    close: async () => {
      await app.close();
      await groq.close();
    },
  };
}

export async function newConversation(api: string, token: string, body: Record<string, unknown> = {}): Promise<string> {
  const r = await call(api, "POST", "/conversations", { token, body });
  if (r.status !== 201) throw new Error(`create conversation: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

export async function messages(api: string, token: string, conversationId: string): Promise<any[]> {
  const r = await call(api, "GET", `/conversations/${conversationId}/messages?limit=100`, { token });
  if (r.status !== 200) throw new Error(`list messages: ${r.status}`);
  return r.body.data;
}

/** Polls until the conversation holds `count` ended replies (a reply outlives a client that left). */
export async function replies(api: string, token: string, conversationId: string, count = 1): Promise<any[]> {
  for (let i = 0; i < 200; i++) {
    const found = (await messages(api, token, conversationId)).filter((m) => m.role === "assistant" && m.finish_reason !== null);
    if (found.length >= count) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${count} replies stored in conversation ${conversationId}`);
}

export const textOf = (events: SseEvent[]) =>
  events.filter((e) => e.event === "content_block_delta").map((e) => e.data.delta.text).join("");

export const names = (events: SseEvent[]) => events.map((e) => e.event).filter((n) => n !== "ping");

export const errorOf = (events: SseEvent[]) => events.find((e) => e.event === "error")?.data.error;
