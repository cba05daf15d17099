// useChat in Chromium: the page under page/ (useChat from @ai-sdk/react, resume: true, bundled here
// with esbuild and served by the test beside the real local runtime) sends, streams reasoning and text,
// is reloaded mid-reply and resumes the same reply; its stop button cancels through the API. The model
// is the loopback Groq server, held by a handshake while the test reloads, so no step depends on speed.
// Lambda-faithful: the reload's closed fetch stops nothing, as on a Function URL.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reasoned, startGroqServer, type GroqServer, type Step } from "../fixtures/groq-server";
import { DURABLE_ENV, gated } from "../durable/scenarios";
import { GROQ_KEY, replies } from "../groq/harness";
import { startApp, type TestApp } from "../support/app";
import { browserMissing, launchBrowser } from "../support/browser";
import { call, registerUser } from "../support/http";

const missing = browserMissing();
if (missing) console.warn(`useChat browser tests skipped: ${missing}`);

const PAGE = "/ui-chat";
const HTML = `<!doctype html><html><head><meta charset="utf-8"><title>useChat</title></head><body><div id="root"></div><script src="${PAGE}/chat.js"></script></body></html>`;

async function bundle(): Promise<string> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL("./page/chat.jsx", import.meta.url))],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "silent",
  });
  return out.outputFiles[0]!.text;
}

describe.skipIf(missing)("useChat in Chromium", { timeout: 90_000 }, () => {
  let groq: GroqServer;
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    const script = await bundle();
    const page = (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? "").split("?")[0];
      if (path === PAGE) return void res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(HTML), true;
      if (path === `${PAGE}/chat.js`) return void res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script), true;
      return false;
    };
    groq = await startGroqServer();
    app = await startApp({ GROQ_API_KEY: GROQ_KEY, GROQ_BASE_URL: groq.url, ...DURABLE_ENV }, { extraRoutes: page, hideDisconnects: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await groq?.close();
  });

  async function open(token: string, chatId: string): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${app.url}${PAGE}?chat=${chatId}&token=${encodeURIComponent(token)}`);
    // resume: true asks for the chat's stream on load; with none (204) the chat is ready.
    await page.locator("#status", { hasText: "ready" }).waitFor();
    return { page, errors };
  }

  const assistant = (page: Page) => page.locator('#messages li[data-role="assistant"]').last();

  it("sends, streams reasoning and text, is reloaded mid-reply and resumes the same reply to its end", async () => {
    const { token } = await registerUser(app.api);
    const chatId = randomUUID();
    const pieces = ["one ", "two ", "three ", "four"];
    const { scenario, release } = gated(reasoned(["Thinking it over."], pieces) as { steps: Step[] }, 2);
    groq.enqueue(scenario);
    try {
      const { page, errors } = await open(token, chatId);
      await page.fill("#input", "Count to four");
      await page.click("#send");
      await assistant(page).locator(".text", { hasText: "one two" }).waitFor();
      expect(await assistant(page).locator(".reasoning").textContent()).toBe("Thinking it over.");
      const replyId = await assistant(page).getAttribute("data-id");

      // The reload drops the page's fetch; the reply goes on, and the page asks for it again.
      const resumed = page.waitForRequest((r) => r.method() === "GET" && r.url().endsWith(`/api/v1/chat/${chatId}/stream`));
      await page.reload();
      expect((await (await resumed).response())?.status()).toBe(200);
      await assistant(page).locator(".text", { hasText: "one two" }).waitFor();
      expect(await assistant(page).getAttribute("data-id")).toBe(replyId);
      release();
      await page.locator("#status", { hasText: "ready" }).waitFor();
      await assistant(page).locator(".text", { hasText: "one two three four" }).waitFor();
      expect(await assistant(page).locator(".reasoning").textContent()).toBe("Thinking it over.");

      const stored = (await call(app.api, "GET", `/conversations/${chatId}/messages`, { token })).body.data;
      expect(stored.map((m: any) => [m.role, m.role === "user" ? m.content : m.finish_reason])).toEqual([
        ["user", "Count to four"],
        ["assistant", "end_turn"],
      ]);
      expect(stored[1]).toMatchObject({ id: replyId, content: pieces.join(""), reasoning: "Thinking it over." });
      expect(errors).toEqual([]);
      await page.context().close();
    } finally {
      release();
    }
  });

  it("Stop cancels the reply through the API; the page and the store keep what streamed", async () => {
    const { token } = await registerUser(app.api);
    const chatId = randomUUID();
    const slow: Step[] = [...Array.from({ length: 50 }, (_, i) => ({ text: `w${i} ` })), { finish: "stop" }, { done: true }];
    const { scenario, release } = gated({ steps: slow }, 3);
    groq.enqueue(scenario);
    try {
      const { page, errors } = await open(token, chatId);
      await page.fill("#input", "Go on");
      await page.click("#send");
      await assistant(page).locator(".text", { hasText: "w0 w1 w2" }).waitFor();
      const cancel = page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith("/cancel"));
      await page.click("#stop");
      expect((await (await cancel).response())?.status()).toBe(202);
      await page.locator("#status", { hasText: "ready" }).waitFor();
      const replyId = await assistant(page).getAttribute("data-id");
      // The producer stores the reply as cancelled on its next flush; the page kept the same text.
      const [reply] = await replies(app.api, token, chatId);
      expect(reply).toMatchObject({ id: replyId, finish_reason: "cancelled", content: "w0 w1 w2 " });
      expect(await assistant(page).locator(".text").textContent()).toBe("w0 w1 w2 ");
      expect(errors).toEqual([]);
      await page.context().close();
    } finally {
      release();
    }
  });
});
