// Regenerate, the ‹ 2/2 › branch arrows and edit-and-resend in the playground, driven in Chromium
// against the real local runtime (offline model, PGlite) with the branch routes.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "../../../tests/support/app";
import { browserMissing, launchBrowser, openPlayground, registerInPage, sendInPage, startPlayground, waitForReply } from "../../../tests/support/browser";

const missing = browserMissing();
if (missing) console.warn(`playground browser tests skipped: ${missing}`);

describe.skipIf(missing)("playground branches", { timeout: 90_000 }, () => {
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    app = await startPlayground();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const counter = (page: Page, selector: string) => page.locator(`${selector} .branches span`).last().textContent();
  const lastReplyId = (page: Page) => page.locator(".msg.assistant").last().getAttribute("data-id");
  /** Waits until the log has been re-read from the API and holds `n` messages, the last one finished. */
  async function settled(page: Page, n: number) {
    await page.locator("#log .msg").nth(n - 1).waitFor();
    await page.waitForFunction((count) => {
      const d = (globalThis as any).document;
      const all = d.querySelectorAll("#log .msg");
      const last = all[all.length - 1];
      return all.length === count && last?.dataset.id && last.querySelector(".usage");
    }, n);
  }

  it("regenerate adds a sibling reply, and the arrows switch between the two", async () => {
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await registerInPage(page);
    await sendInPage(page, "Say something");
    await waitForReply(page);
    await settled(page, 2);
    const first = await lastReplyId(page);

    await page.locator(".msg.assistant .regenerate").last().click();
    await page.locator(".msg.assistant .branches").waitFor();
    await settled(page, 2);
    const second = await lastReplyId(page);
    expect(second).not.toBe(first);
    expect(await counter(page, ".msg.assistant")).toBe("2/2");
    // The arrows have names and are big enough to hit (24×24 px at least).
    for (const name of ["Previous version", "Next version"]) {
      const box = (await page.getByRole("button", { name }).boundingBox())!;
      expect(Math.min(box.width, box.height), name).toBeGreaterThanOrEqual(24);
    }

    await page.locator(".msg.assistant .branches .prev").click();
    await page.locator(`.msg.assistant[data-id="${first}"]`).waitFor();
    expect(await counter(page, ".msg.assistant")).toBe("1/2");
    expect(await page.isDisabled(".msg.assistant .branches .prev")).toBe(true);

    await page.locator(".msg.assistant .branches .next").click();
    await page.locator(`.msg.assistant[data-id="${second}"]`).waitFor();
    expect(await counter(page, ".msg.assistant")).toBe("2/2");
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("edit and resend starts a branch at the edited message; the arrows bring the original back", async () => {
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await registerInPage(page);
    await sendInPage(page, "First question");
    await waitForReply(page);
    await settled(page, 2);
    await sendInPage(page, "Second question");
    await settled(page, 4);

    // The edit happens on the message itself; a draft in the composer is left as it was.
    await page.fill("#content", "an unsent draft");
    await page.locator(".msg.user").nth(1).getByRole("button", { name: "Edit message" }).click();
    const box = page.getByRole("textbox", { name: "Edited message" });
    expect(await box.inputValue()).toBe("Second question");
    expect(await box.evaluate((e) => e === (globalThis as any).document.activeElement)).toBe(true);
    // Cancel puts the message back untouched.
    await page.getByRole("button", { name: "Cancel" }).click();
    expect(await box.count()).toBe(0);
    expect(await page.locator(".msg.user .body").nth(1).textContent()).toBe("Second question");
    await page.locator(".msg.user").nth(1).getByRole("button", { name: "Edit message" }).click();
    await box.fill("Second question, edited");
    await page.getByRole("button", { name: "Send edit" }).click();
    await page.locator(".msg.user .branches").waitFor();
    await settled(page, 4);
    expect(await page.locator(".msg.user .body").allTextContents()).toEqual(["First question", "Second question, edited"]);
    expect(await counter(page, ".msg.user")).toBe("2/2");
    expect(await page.locator(".msg.assistant .body").last().textContent()).toContain("Second question, edited");

    await page.locator(".msg.user .branches .prev").click();
    await page.locator(".msg.user .body", { hasText: /^Second question$/ }).waitFor();
    await settled(page, 4);
    expect(await page.locator(".msg.user .body").allTextContents()).toEqual(["First question", "Second question"]);
    expect(await counter(page, ".msg.user")).toBe("1/2");
    expect(await page.inputValue("#content")).toBe("an unsent draft");
    expect(s.errors).toEqual([]);
    await s.close();
  });
});
