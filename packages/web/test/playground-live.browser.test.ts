// Stop and reload-resume in the playground, against the durable-reply routes of CONTRACTS.md
// (`POST …/messages/{message_id}/cancel`, `GET …/messages/{message_id}/stream` with Last-Event-ID, and a
// listed reply with finish_reason null while it streams). They are built on another branch: until the
// API has them, this file skips with a message saying so.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "../../../tests/support/app";
import { browserMissing, launchBrowser, openPlayground, registerInPage, sendInPage, startPlayground, waitForReply } from "../../../tests/support/browser";
import { call } from "../../../tests/support/http";

const CANCEL = /\/messages\/\{[^}]+\}\/cancel$/;
const RESUME = /\/messages\/\{[^}]+\}\/stream$/;

const missing = browserMissing();
if (missing) console.warn(`playground browser tests skipped: ${missing}`);

describe.skipIf(missing)("playground stop and resume (durable replies)", { timeout: 60_000 }, () => {
  let app: TestApp;
  let browser: Browser;
  let routesMissing: string | null = null;
  beforeAll(async () => {
    // Slow enough that a reply is still streaming when the test stops it or reloads.
    app = await startPlayground({ OFFLINE_TOKEN_DELAY_MS: "80" });
    const doc = (await (await fetch(app.url + "/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    const paths = Object.entries(doc.paths);
    const has = (re: RegExp, method: string) => paths.some(([p, ops]) => re.test(p) && ops[method]);
    if (!has(CANCEL, "post") || !has(RESUME, "get")) {
      routesMissing = "the API has no cancel/resume routes yet (branch durable)";
      console.warn(`playground stop/resume tests skipped: ${routesMissing}`);
      return;
    }
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const tokenOf = (page: import("playwright-core").Page) =>
    page.evaluate(() => JSON.parse((globalThis as any).localStorage.getItem("playground.session")).access_token as string);

  async function storedReply(token: string) {
    const list = await call(app.api, "GET", "/conversations", { token });
    const conv = await call(app.api, "GET", `/conversations/${list.body.data[0].id}`, { token });
    return conv.body.messages.at(-1);
  }

  it("Stop cancels the reply through the API; the partial reply stays, marked stopped", async (ctx) => {
    if (routesMissing) ctx.skip();
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await registerInPage(page);
    await sendInPage(page, "Tell me a long story about streams that go on and on");
    await page.locator(".msg.assistant .body").filter({ hasText: /\S/ }).waitFor();
    expect(await page.isDisabled("#send")).toBe(true);

    const cancel = page.waitForRequest((r) => r.method() === "POST" && /\/messages\/[^/]+\/cancel$/.test(r.url()));
    await page.click("#stop");
    expect((await (await cancel).response())?.status()).toBe(202);
    await waitForReply(page);
    expect(await page.textContent(".msg.assistant .meta")).toContain("Stopped");
    expect(await page.isDisabled("#send")).toBe(false);
    expect(await page.isHidden("#stop")).toBe(true);

    const reply = await storedReply(await tokenOf(page));
    expect(reply.finish_reason).toBe("cancelled");
    // Rendered as markdown, the paragraph drops the trailing space the cut left.
    expect((await page.textContent(".msg.assistant .body"))!.trim()).toBe(reply.content.trim());
    expect(reply.content).not.toMatch(/on and on"$/);
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("after a reload, a reply still streaming reattaches from the last event seen and ends whole", async (ctx) => {
    if (routesMissing) ctx.skip();
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await registerInPage(page);
    await sendInPage(page, "Keep talking while I reload the page, please");
    await page.locator(".msg.assistant .body").filter({ hasText: /\S+ \S+/ }).waitFor();

    const resumed = page.waitForRequest((r) => r.method() === "GET" && /\/messages\/[^/]+\/stream(\?|$)/.test(r.url()));
    await page.reload();
    const request = await resumed;
    // This tab saved the last event id it saw, so the server sends only what came after.
    const after = request.headers()["last-event-id"] ?? new URL(request.url()).searchParams.get("last_event_id");
    expect(Number(after)).toBeGreaterThan(0);
    await waitForReply(page);

    const reply = await storedReply(await tokenOf(page));
    expect(reply.finish_reason).toBe("end_turn");
    // Nothing lost and nothing repeated across the reload.
    expect(await page.textContent(".msg.assistant .body")).toBe(reply.content);
    expect(await page.textContent(".msg.user .body")).toBe("Keep talking while I reload the page, please");
    expect(s.errors).toEqual([]);
    await s.close();
  });
});
