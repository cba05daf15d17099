// The chat itself in Chromium, found by role and accessible name: markdown (bold, lists, highlighted
// code with a working copy button), HTML from a reply staying inert, focus after sign-in, Escape and
// Stop, the 409 when another tab is answering, the stored figures after a reload mid-reply, and
// re-login reopening the last conversation. The offline model echoes what it is sent, so a message
// written in markdown comes back as a reply in markdown.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "../../../tests/support/app";
import { browserMissing, freshEmail, launchBrowser, openPlayground, registerInPage, sendInPage, startPlayground, waitForReply } from "../../../tests/support/browser";
import { call } from "../../../tests/support/http";

const missing = browserMissing();
if (missing) console.warn(`playground browser tests skipped: ${missing}`);

const tokenOf = (page: Page) =>
  page.evaluate(() => JSON.parse((globalThis as any).localStorage.getItem("playground.session")).access_token as string);
const longMessage = () => Array.from({ length: 150 }, (_, i) => `word${i}`).join(" ");
const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

describe.skipIf(missing)("playground chat in Chromium", { timeout: 90_000 }, () => {
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    // Paced so that a long reply (about 70 words) is still streaming while a second tab sends.
    [app, browser] = await Promise.all([startPlayground({ OFFLINE_TOKEN_DELAY_MS: "40" }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function storedMessages(page: Page) {
    const token = await tokenOf(page);
    const list = await call(app.api, "GET", "/conversations", { token });
    return (await call(app.api, "GET", `/conversations/${list.body.data[0].id}`, { token })).body.messages;
  }

  it("renders markdown: bold, a list, a highlighted code block whose copy button copies it; focus is in the composer after sign-in", async () => {
    const s = await openPlayground(browser, app.url, { width: 1280, height: 800 });
    const { page } = s;
    await s.context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await registerInPage(page);
    // Focus moves to the composer once sign-in has loaded the conversations, after the name is shown.
    const composer = page.getByRole("textbox", { name: "Message" });
    await expect.poll(() => composer.evaluate((e) => e === (globalThis as any).document.activeElement), { timeout: 15_000 }).toBe(true);

    await sendInPage(page, "Some **bold** words\n\n- apples\n- pears\n\n```js\nconst answer = 42;\n```\n\nThe end");
    await waitForReply(page);
    const reply = page.getByRole("article", { name: "Assistant replied" });
    expect(await reply.locator("strong").first().textContent()).toBe("bold");
    expect(await reply.getByRole("listitem").allTextContents()).toEqual(["apples", "pears"]);
    const code = reply.locator("pre code.language-js");
    expect(await code.textContent()).toBe("const answer = 42;\n");
    // highlight.js coloured it.
    expect(await code.locator(".hljs-keyword").first().textContent()).toBe("const");
    expect(await code.locator(".hljs-number").first().textContent()).toBe("42");

    await reply.getByRole("button", { name: "Copy code" }).click();
    await reply.getByRole("button", { name: "Copy code" }).filter({ hasText: "Copied" }).waitFor();
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe("const answer = 42;\n");
    // Every message has its own copy button: the user's gives back exactly what was typed.
    await page.getByRole("article", { name: "You said" }).getByRole("button", { name: "Copy message" }).click();
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toMatch(/^Some \*\*bold\*\* words\n/);
    await reply.getByRole("button", { name: "Copy reply" }).click();
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe((await storedMessages(page))[1].content);

    // The live region spoke the reply once it ended, and the transcript itself is not live.
    await page.getByRole("status").filter({ hasText: /^Reply: This is the offline model/ }).waitFor({ state: "attached" });
    expect(await page.locator("#log").getAttribute("aria-live")).toBeNull();
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("shows HTML in a reply as text: a <script> or an onerror never runs", async () => {
    const s = await openPlayground(browser, app.url, { width: 1280, height: 800 });
    const { page } = s;
    await registerInPage(page);
    const attack = `<script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> [link](javascript:window.__pwned=3)`;
    await sendInPage(page, attack);
    await waitForReply(page);
    const body = page.getByRole("article", { name: "Assistant replied" }).locator(".body");
    expect(await body.textContent()).toContain('<script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2">');
    expect(await body.locator("script, img, [onerror]").count()).toBe(0);
    expect(await body.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as any).__pwned)).toBeUndefined();
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("Escape stops a reply, and Stop says what came of it (stopped, or already ended)", async () => {
    const s = await openPlayground(browser, app.url, { width: 1280, height: 800 });
    const { page } = s;
    await registerInPage(page);
    await sendInPage(page, longMessage());
    await page.locator(".msg.assistant .body").filter({ hasText: /word\d/ }).waitFor();
    const cancel = page.waitForResponse((r) => /\/cancel$/.test(r.url()));
    await page.keyboard.press("Escape");
    expect((await cancel).status()).toBe(202);
    await waitForReply(page);
    expect(await page.locator(".msg.assistant .meta").textContent()).toContain("Stopped");
    expect(await page.textContent("#hint")).toBe("Stopped: the reply keeps what was written before Stop.");
    expect((await storedMessages(page))[1].finish_reason).toBe("cancelled");

    // A reply that ended before the cancel reached the API: the API answers 409, and the page says so.
    await page.route(/\/cancel$/, (route) =>
      route.fulfill({ status: 409, json: { error: { type: "conflict_error", message: "The reply has already ended", request_id: "r" } } }),
    );
    await sendInPage(page, longMessage());
    await page.locator(".msg.assistant").last().locator(".body").filter({ hasText: /word\d/ }).waitFor();
    await page.getByRole("button", { name: "Stop" }).click();
    await page.getByText("The reply had already ended: there was nothing left to stop.").waitFor();
    await waitForReply(page);
    expect(s.errors.filter((e) => !/status of 409/.test(e))).toEqual([]);
    await s.close();
  });

  it("after a reload mid-reply, shows the stored figures once the reply ends, and keeps Thought for …", async () => {
    const s = await openPlayground(browser, app.url, { width: 1280, height: 800 });
    const { page } = s;
    await registerInPage(page);
    await sendInPage(page, longMessage());
    // The default offline model reasons first; once text streams, its thinking has ended and was timed.
    await page.locator(".msg.assistant .body").filter({ hasText: /word\d/ }).waitFor();
    expect(await page.locator(".msg.assistant summary").textContent()).toMatch(/^Thought for /);
    await page.reload();
    await waitForReply(page);
    const [, reply] = await storedMessages(page);
    expect(reply.finish_reason).toBe("end_turn");
    const usage = page.locator(".msg.assistant .usage");
    await expect
      .poll(() => usage.textContent())
      .toBe(`${reply.model} · ${reply.input_tokens} in · ${reply.token_count} out · first token ${seconds(reply.ttft_ms)} · total ${seconds(reply.latency_ms)}`);
    expect(await page.locator(".msg.assistant summary").textContent()).toMatch(/^Thought for \d/);
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("a send while another tab's reply is streaming says so, follows that reply and keeps the draft", async () => {
    const s = await openPlayground(browser, app.url, { width: 1280, height: 800 });
    const a = s.page;
    await registerInPage(a);
    await sendInPage(a, "Hello");
    await waitForReply(a);
    // A second tab of the same browser (same storage) opens the same conversation.
    const b = await s.context.newPage();
    const bErrors: string[] = [];
    b.on("pageerror", (e) => bErrors.push(e.message));
    await b.goto(app.url + "/");
    await b.locator(".msg.assistant .usage").waitFor();

    await sendInPage(a, longMessage());
    // As soon as the reply streams, not once its text shows: the quote of the message comes last, and a
    // loaded machine can take longer than the rest of the reply to type into tab two.
    await a.locator(".msg.assistant.streaming").waitFor();
    await b.fill("#content", "my draft from tab two");
    await b.press("#content", "Enter");
    await b.getByText("A reply is already being written in this conversation — following it").waitFor();
    expect(await b.inputValue("#content")).toBe("my draft from tab two");
    // Tab two shows tab one's reply as it streams, then finished.
    await b.locator(".msg.assistant").nth(1).locator(".usage").waitFor();
    await a.locator(".msg.assistant").nth(1).locator(".usage").waitFor();
    expect(await b.locator(".msg.assistant").nth(1).locator(".body").textContent()).toBe(await a.locator(".msg.assistant").nth(1).locator(".body").textContent());
    expect(await b.inputValue("#content")).toBe("my draft from tab two");
    expect(bErrors).toEqual([]);
    await s.close();
  });

  it("logging back in reopens the conversation that was open", async () => {
    const s = await openPlayground(browser, app.url, { width: 1280, height: 800 });
    const { page } = s;
    const email = await registerInPage(page, freshEmail("relogin"));
    await sendInPage(page, "Remember me");
    await waitForReply(page);
    await page.getByRole("button", { name: "+ New conversation", exact: true }).click();
    await page.getByRole("button", { name: "Remember me" }).click();
    await page.locator(".msg.user").waitFor();
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("textbox", { name: "Email" }).fill(email);
    await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.locator(".msg.user .body").filter({ hasText: "Remember me" }).waitFor();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Remember me");
    expect(await page.locator('.conv[aria-current="page"]').textContent()).toBe("Remember me");
    expect(s.errors).toEqual([]);
    await s.close();
  });
});
