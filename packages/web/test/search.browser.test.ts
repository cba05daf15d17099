// Search in the playground (Chromium through playwright-core, the real local runtime): the box appears
// because /openapi.json documents `q` on the conversation list, and typing finds a conversation by the
// text of its messages (not only its title).
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "../../../tests/support/app";
import { browserMissing, launchBrowser, openPlayground, registerInPage, sendInPage, startPlayground, waitForReply } from "../../../tests/support/browser";
import { call } from "../../../tests/support/http";

const missing = browserMissing();
if (missing) console.warn(`playground search browser test skipped: ${missing}`);

describe.skipIf(missing)("playground search in Chromium", { timeout: 60_000 }, () => {
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startPlayground({ OFFLINE_TOKEN_DELAY_MS: "0" }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("finds a conversation by message text, and shows them all again when the box is cleared", async () => {
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await registerInPage(page);
    await page.locator("#search").waitFor({ state: "visible" });

    await sendInPage(page, "Tell me about the aardvark");
    await waitForReply(page);
    await page.click("#new");
    await sendInPage(page, "What is a pangolin");
    // Until the new conversation is open, the first one's finished reply is the last on screen.
    await page.locator(".msg.user .body").filter({ hasText: "What is a pangolin" }).waitFor();
    await waitForReply(page);
    await expect.poll(() => page.locator(".conv").count()).toBe(2);

    // Rename the aardvark conversation through the API, so its title no longer names the animal: the
    // match can only come from the message text.
    const token = await page.evaluate(() => JSON.parse((globalThis as any).localStorage.getItem("playground.session")).access_token);
    const list = await call(app.api, "GET", "/conversations", { token });
    const aardvark = list.body.data.find((c: { title: string }) => c.title.includes("aardvark"));
    await call(app.api, "PATCH", `/conversations/${aardvark.id}`, { token, body: { title: "Zoo notes" } });

    await page.fill("#search", "AARDVARK");
    await expect.poll(() => page.locator(".conv .conv-title").allTextContents()).toEqual(["Zoo notes"]);
    // The match is outside the title: a snippet of the message shows where, the word marked.
    const snippet = page.getByRole("navigation", { name: "Conversations" }).locator(".snippet");
    await expect.poll(() => snippet.textContent()).toBe("Tell me about the aardvark");
    expect(await snippet.locator("mark").allTextContents()).toEqual(["aardvark"]);
    // A match in the title is marked there.
    await page.fill("#search", "pangolin");
    await expect.poll(() => page.locator(".conv .conv-title mark").allTextContents()).toEqual(["pangolin"]);
    await page.fill("#search", "unicorn");
    await page.getByText("No conversations match").waitFor();
    expect(await page.locator(".conv").count()).toBe(0);
    await page.fill("#search", "");
    await expect.poll(() => page.locator(".conv .conv-title").allTextContents()).toEqual(["Zoo notes", "What is a pangolin"]); // the rename counted as activity
    expect(await page.getByText("No conversations match").count()).toBe(0);

    // Picking a result opens it.
    await page.fill("#search", "aardvark");
    await expect.poll(() => page.locator(".conv").count()).toBe(1);
    await page.click(".conv >> text=Zoo notes");
    await expect.poll(() => page.textContent(".msg.user .body")).toBe("Tell me about the aardvark");
    expect(s.errors).toEqual([]);
    await s.close();
  });
});
