// The playground in a real browser (Debian's Chromium through playwright-core) against the real local
// runtime: what a user sees when streaming, on errors, after a reload, at phone width, and that the page
// logs no console errors on the way. One browser for the file; each test has its own context (storage).
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "../../../tests/support/app";
import {
  browserMissing,
  freshEmail,
  launchBrowser,
  openPlayground,
  recordReplies,
  registerInPage,
  sendInPage,
  startPlayground,
  waitForReply,
} from "../../../tests/support/browser";
import { call, registerUser as registerUserFor } from "../../../tests/support/http";

const missing = browserMissing();
if (missing) console.warn(`playground browser tests skipped: ${missing}`);

describe.skipIf(missing)("playground in Chromium", { timeout: 60_000 }, () => {
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startPlayground(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("streams a reply the user sees growing, with Send disabled until it ends, then shows its usage", async () => {
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    const email = await registerInPage(page);
    // Signed in: the form goes, the account line stays.
    expect(await page.isHidden("#auth")).toBe(true);
    await expect.poll(() => page.textContent("#who")).toBe(email);

    // Shift+Enter is a new line, not a send.
    await page.fill("#content", "Hello there");
    await page.press("#content", "Shift+Enter");
    await page.type("#content", "second line");
    expect(await page.inputValue("#content")).toBe("Hello there\nsecond line");
    expect(await page.locator(".msg.user").count()).toBe(0);

    const samples = await recordReplies(page);
    await page.press("#content", "Enter");
    await waitForReply(page);

    expect(await page.textContent(".msg.user .body")).toBe("Hello there\nsecond line");
    const seen = await samples();
    const during = seen.filter((x) => !x.finished);
    const lengths = [...new Set(during.map((x) => x.text.length))];
    // The text arrived in many steps, each one longer than the last.
    expect(lengths.length).toBeGreaterThan(5);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    expect(during.every((x) => x.sendDisabled && x.stopShown)).toBe(true);
    expect(await page.isDisabled("#send")).toBe(false);
    expect(await page.isHidden("#stop")).toBe(true);

    // The usage line comes from the stream itself, and matches what the API stored.
    const usage = await page.textContent(".msg.assistant .usage");
    expect(usage).toMatch(/^offline-echo · \d+ in · \d+ out · first token .+ · total .+$/);
    const token = await page.evaluate(() => JSON.parse((globalThis as any).localStorage.getItem("playground.session")).access_token);
    const list = await call(app.api, "GET", "/conversations", { token });
    expect(list.body.data).toHaveLength(1);
    const stored = await call(app.api, "GET", `/conversations/${list.body.data[0].id}`, { token });
    const reply = stored.body.messages[1];
    expect(await page.textContent(".msg.assistant .body")).toBe(reply.content);
    expect(usage).toContain(`${reply.token_count} out`);

    // The conversation is in the sidebar, titled by the API from its first words once the reply ended, and open.
    await expect.poll(() => page.textContent(".conv[aria-current=page]")).toBe("Hello there second line");
    expect(await page.textContent("#title")).toBe("Hello there second line");
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("shows a new conversation in the sidebar at once, and reopens the last one after a reload", async () => {
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await registerInPage(page);
    await page.click("#new");
    await page.locator(".conv[aria-current=page]").waitFor();
    expect(await page.locator(".conv").allTextContents()).toEqual(["New conversation"]);
    // An empty conversation is reused rather than piling up more.
    await page.click("#new");
    expect(await page.locator(".conv").count()).toBe(1);

    await sendInPage(page, "Remember this one");
    await waitForReply(page);
    await page.click("#new");
    await expect.poll(() => page.locator(".conv").count()).toBe(2);
    await page.click(".conv >> text=Remember this one");
    await page.locator(".msg.user").waitFor();

    await page.reload();
    await page.locator(".msg.assistant .usage").waitFor();
    expect(await page.textContent(".msg.user .body")).toBe("Remember this one");
    expect(await page.textContent(".conv[aria-current=page]")).toBe("Remember this one");
    expect(await page.textContent("#title")).toBe("Remember this one");
    // The stored reply shows the same usage line as a streamed one.
    expect(await page.textContent(".msg.assistant .usage")).toMatch(/^offline-echo · \d+ in · \d+ out · first token .+ · total .+$/);
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("says why Send cannot act, and puts a 422's field errors under their fields", async () => {
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await sendInPage(page, "hello?");
    expect(await page.textContent("#hint")).toMatch(/sign in first/i);
    expect(await page.locator(".msg").count()).toBe(0);

    await page.fill("#email", "not-an-email");
    await page.fill("#password", "short");
    await page.click("#register");
    const emailError = page.locator('.field-error[data-field="body.email"]');
    await emailError.waitFor();
    expect(await emailError.textContent()).toMatch(/email/i);
    expect(await page.textContent('.field-error[data-field="body.password"]')).toMatch(/at least 8 bytes/);
    expect(await page.getAttribute("#email", "aria-invalid")).toBe("true");

    const email = await registerInPage(page);
    expect(await page.isHidden('.field-error[data-field="body.email"]')).toBe(true);
    await sendInPage(page, "   ");
    expect(await page.textContent("#hint")).toBe("Type a message first.");

    // Too long for the API: the counter says so as it is typed, Send says why, and the message stays in the box.
    await page.fill("#content", "x".repeat(32_001));
    expect(await page.textContent("#counter")).toBe("1 character over the 32,000 limit");
    await page.press("#content", "Enter");
    expect(await page.textContent("#hint")).toBe("That message is 1 character too long: the limit is 32,000.");
    expect((await page.inputValue("#content")).length).toBe(32_001);
    expect(await page.locator(".msg").count()).toBe(0);

    // The same address again: 409, said next to the form.
    await page.click("#logout");
    await page.fill("#email", email);
    await page.fill("#password", "correct horse battery");
    await page.click("#register");
    await expect.poll(() => page.textContent("#auth-error")).toMatch(/already/i);
    // Every console error here is the browser noting the 4xx answers themselves, nothing else.
    expect(s.errors.filter((e) => !/status of 4(09|22)/.test(e))).toEqual([]);
    await s.close();
  });

  it("logs out: forgets the tokens, shows the form again, and stays signed out after a reload", async () => {
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await registerInPage(page);
    await sendInPage(page, "Hi");
    await waitForReply(page);
    await page.click("#logout");
    await page.locator("#auth").waitFor();
    expect(await page.isHidden("#account")).toBe(true);
    expect(await page.locator(".conv").count()).toBe(0);
    expect(await page.locator(".msg").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as any).localStorage.getItem("playground.session"))).toBeNull();
    await page.reload();
    await page.locator("#auth").waitFor();
    expect(await page.isHidden("#account")).toBe(true);
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("works at 390 px: the chat gets the width, the menu holds the account, a long email does not overflow", async () => {
    const s = await openPlayground(browser, app.url, { width: 390, height: 844 });
    const { page } = s;
    // Signed out, the menu opens by itself to show the form.
    await page.locator("#email").waitFor({ state: "visible" });
    const email = await registerInPage(page, freshEmail("a-rather-long-address-for-a-narrow-screen-test"));
    await expect.poll(() => page.evaluate(() => (globalThis as any).document.body.classList.contains("sidebar-open"))).toBe(false);

    const main = (await page.locator("main").boundingBox())!;
    expect(main.width).toBeGreaterThanOrEqual(380);
    const box = (await page.locator("#content").boundingBox())!;
    expect(box.width).toBeGreaterThan(250);
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    await sendInPage(page, "Small screens too");
    await waitForReply(page);
    const reply = (await page.locator(".msg.assistant").boundingBox())!;
    expect(reply.x + reply.width).toBeLessThanOrEqual(390);

    await page.click("#menu");
    const who = page.locator("#who");
    await who.waitFor({ state: "visible" });
    expect(await who.getAttribute("title")).toBe(email);
    const whoBox = (await who.boundingBox())!;
    const aside = (await page.locator("aside").boundingBox())!;
    expect(whoBox.x + whoBox.width).toBeLessThanOrEqual(aside.x + aside.width);
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("a message sent right after New, while the API is still making the conversation, goes to the new conversation", async () => {
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await registerInPage(page);
    await sendInPage(page, "the first conversation");
    await waitForReply(page);

    // The API takes its time to make the next conversation; the message is sent before it exists.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(
      (url) => url.pathname.endsWith("/conversations"),
      async (route) => {
        if (route.request().method() === "POST") await held;
        await route.fallback();
      },
    );
    await page.click("#new");
    await sendInPage(page, "the second conversation");
    release();
    // Until the new conversation is open, the first one's finished reply is the last on screen.
    await page.locator(".msg.user .body").filter({ hasText: "the second conversation" }).waitFor();
    await waitForReply(page);
    expect(await page.locator(".msg.user .body").allTextContents()).toEqual(["the second conversation"]);

    const token = await page.evaluate(() => JSON.parse((globalThis as any).localStorage.getItem("playground.session")).access_token);
    const list = (await call(app.api, "GET", "/conversations", { token })).body.data as { id: string }[];
    expect(list).toHaveLength(2);
    const firstUserMessages = async (id: string) =>
      ((await call(app.api, "GET", `/conversations/${id}`, { token })).body.messages as { role: string; content: string }[])
        .filter((m) => m.role === "user")
        .map((m) => m.content);
    // Newest first.
    expect(await firstUserMessages(list[0]!.id)).toEqual(["the second conversation"]);
    expect(await firstUserMessages(list[1]!.id)).toEqual(["the first conversation"]);
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("shows a reply's reasoning (a thinking block before the text) collapsed, as Thought for …, and expands it", async () => {
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await registerInPage(page);
    // The reasoning stream of CONTRACTS.md (a reasoning model on Groq), answered by the browser itself
    // since the offline model does not reason.
    const id = "7f1c1b1e-9c6a-4d3e-8a51-3f7a2b0c9d10";
    const events: [string, unknown][] = [
      ["message_start", { type: "message_start", message: { id, type: "message", role: "assistant", model: "reasoner", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 0 } } }],
      ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }],
      ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Let me think. " } }],
      ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Yes." } }],
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      ["content_block_start", { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }],
      ["content_block_delta", { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "The answer." } }],
      ["content_block_stop", { type: "content_block_stop", index: 1 }],
      ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 30 } }],
      ["message_stop", { type: "message_stop" }],
    ];
    const body = events.map(([event, data], i) => `id: ${i + 1}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join("");
    const userId = "7f1c1b1e-9c6a-4d3e-8a51-3f7a2b0c9d11";
    await page.route(/\/messages\/stream$/, (route) =>
      route.fulfill({ status: 200, headers: { "content-type": "text/event-stream; charset=utf-8" }, body }),
    );
    // With branches the page re-reads the conversation once a reply ends (it needs the stored ids): the
    // read-back holds what the faked stream would have stored.
    await page.route(/\/api\/v1\/conversations\/[^/?]+$/, async (route) => {
      if (route.request().method() !== "GET") return route.fallback();
      const real = await (await route.fetch()).json();
      const base = { conversation_id: real.id, model: null, token_count: null, input_tokens: null, finish_reason: null, latency_ms: null, ttft_ms: null, metadata: {}, reasoning: "", created_at: real.created_at, sibling_count: 1, sibling_index: 0 };
      real.messages = [
        { ...base, id: userId, role: "user", content: "Think first", parent_id: null, sibling_ids: [userId] },
        { ...base, id, role: "assistant", content: "The answer.", reasoning: "Let me think. Yes.", model: "reasoner", finish_reason: "end_turn", input_tokens: 12, token_count: 30, metadata: { reasoning_ms: 900 }, parent_id: userId, sibling_ids: [id] },
      ];
      await route.fulfill({ json: real });
    });
    await sendInPage(page, "Think first");
    await waitForReply(page);
    // The read-back re-renders the log (the stored user message then carries its id): expand after it.
    await page.locator(`.msg.user[data-id="${userId}"]`).waitFor();

    const reply = page.locator(".msg.assistant");
    expect(await reply.locator(".body").textContent()).toBe("The answer.");
    expect(await reply.locator("summary").textContent()).toMatch(/^Thought for \d+(\.\d)? (ms|s)$/);
    expect(await reply.locator(".thoughts").isVisible()).toBe(false);
    await reply.locator("summary").click();
    expect(await reply.locator(".thoughts").isVisible()).toBe(true);
    expect(await reply.locator(".thoughts").textContent()).toBe("Let me think. Yes.");
    expect(await reply.locator(".usage").textContent()).toMatch(/^reasoner · 12 in · 30 out · /);
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("refreshes an expired access token with the refresh token, and hands the refresh token back on logout", async () => {
    // The real refresh and logout routes: the page holds an access token the API refuses and a live
    // refresh token; it must rotate the pair once, carry on, and revoke the family when logging out.
    const email = `refresh-${process.pid}-${Date.now()}@example.com`;
    const reg = await call(app.api, "POST", "/auth/register", { body: { email, password: "correct horse battery" } });
    expect(reg.status).toBe(201);
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await page.evaluate(
      (session) => (globalThis as any).localStorage.setItem("playground.session", JSON.stringify(session)),
      { access_token: "expired-token", refresh_token: reg.body.refresh_token, email },
    );
    const refresh = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/refresh"));
    await page.reload();
    const rotated = await refresh;
    expect(rotated.status()).toBe(200);
    expect(rotated.request().postDataJSON()).toEqual({ refresh_token: reg.body.refresh_token });
    const next = (await rotated.json()).refresh_token as string;
    await page.locator("#who").filter({ hasText: email }).waitFor();

    const logout = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/logout"));
    await page.click("#logout");
    const out = await logout;
    expect(out.request().postDataJSON()).toEqual({ refresh_token: next });
    await page.locator("#auth").waitFor();
    // The family is gone: neither the rotated token nor the one before it refreshes any more.
    expect((await call(app.api, "POST", "/auth/refresh", { body: { refresh_token: next } })).status).toBe(401);
    expect((await call(app.api, "POST", "/auth/refresh", { body: { refresh_token: reg.body.refresh_token } })).status).toBe(401);
    // The one console error is the browser noting the expired token's 401.
    expect(s.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    await s.close();
  });

  it("has a favicon", async () => {
    const s = await openPlayground(browser, app.url);
    const res = await s.page.request.get(app.url + "/favicon.ico");
    expect(res.status()).toBe(200);
    expect(res.headers()["content-type"]).toBe("image/svg+xml");
    expect(await s.page.getAttribute('link[rel="icon"]', "href")).toBe("/favicon.svg");
    expect(s.errors).toEqual([]);
    await s.close();
  });
});
