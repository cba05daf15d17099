// Every control of the playground in Chromium, found by role and accessible name, at 1280×800 and at
// 360×740: each at least 24×24 px and no sideways scroll; the conversation settings (rename, system
// prompt, temperature and max tokens on each send, export, delete) and the account settings (usage
// today, API keys, password, log out everywhere) doing what they say against the real API; dark mode by media emulation
// and a remembered toggle; and an axe-core scan with no serious or critical violation.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "../../../tests/support/app";
import { browserMissing, launchBrowser, layoutProblems, registerInPage, sendInPage, startPlayground, waitForReply } from "../../../tests/support/browser";
import { call } from "../../../tests/support/http";

const missing = browserMissing();
if (missing) console.warn(`playground browser tests skipped: ${missing}`);

const WIDE = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 740 };
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const sessionOf = (page: Page) =>
  page.evaluate(() => JSON.parse((globalThis as any).localStorage.getItem("playground.session")) as { access_token: string; refresh_token: string } | null);
const tokenOf = async (page: Page) => (await sessionOf(page))!.access_token;

describe.skipIf(missing)("playground controls in Chromium", { timeout: 120_000 }, () => {
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startPlayground(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function open(options: BrowserContextOptions) {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(app.url + "/");
    return { context, page, errors };
  }

  for (const [name, viewport] of [["1280×800", WIDE], ["360×740", PHONE]] as const) {
    it(`every control has a name and at least 24×24 px, with no sideways scroll, at ${name}`, async () => {
      const phone = viewport === PHONE;
      const { context, page, errors } = await open({ viewport });
      expect(await layoutProblems(page)).toEqual({ small: [], sideways: 0 });
      await registerInPage(page);
      await sendInPage(page, "Hello there");
      await waitForReply(page);
      await page.getByRole("button", { name: "Regenerate reply" }).waitFor();

      const inMain = [
        page.getByRole("button", { name: "Conversation settings" }),
        page.getByRole("combobox", { name: "Model" }),
        page.getByRole("textbox", { name: "Message" }),
        page.getByRole("button", { name: "Send" }),
        page.getByRole("button", { name: "Copy reply" }),
        page.getByRole("button", { name: "Copy message" }),
        page.getByRole("button", { name: "Edit message" }),
        page.getByRole("button", { name: "Regenerate reply" }),
      ];
      for (const l of inMain) expect(await l.isVisible(), String(l)).toBe(true);
      expect(await layoutProblems(page)).toEqual({ small: [], sideways: 0 });
      // Header readable: the title is not squeezed to a few letters, the model's name fits its picker.
      expect((await page.getByRole("heading", { level: 1 }).boundingBox())!.width).toBeGreaterThan(phone ? 200 : 400);
      for (const name of ["Model", "Reasoning effort"]) {
        const picker = page.getByRole("combobox", { name });
        // The chosen option's text, in the picker's font, fits inside its padding (the chevron has its own room).
        const fits = await picker.evaluate((e: any) => {
          const g = globalThis as any;
          const s = g.getComputedStyle(e);
          const ctx = g.document.createElement("canvas").getContext("2d");
          ctx.font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
          const text = e.selectedOptions[0].text;
          return { text, fits: ctx.measureText(text).width <= e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) };
        });
        expect(fits, JSON.stringify(fits)).toMatchObject({ fits: true });
      }
      // The composer's placeholder fits on one line.
      const box = page.getByRole("textbox", { name: "Message" });
      expect(await box.evaluate((e: any) => e.scrollHeight <= e.clientHeight + 2)).toBe(true);

      if (phone) await page.getByRole("button", { name: "Open menu" }).click();
      const inSidebar = [
        page.getByRole("button", { name: "Dark mode" }),
        page.getByRole("button", { name: "Settings", exact: true }),
        page.getByRole("button", { name: "Log out" }),
        page.getByRole("button", { name: "+ New conversation" }),
        page.getByRole("searchbox", { name: "Search conversations" }),
        page.getByRole("navigation", { name: "Conversations" }).getByRole("button", { name: "Hello there" }),
        page.getByRole("link", { name: "API docs" }),
      ];
      for (const l of inSidebar) await l.waitFor();
      expect(await page.getByRole("button", { name: "Hello there" }).getAttribute("aria-current")).toBe("page");
      expect(await layoutProblems(page)).toEqual({ small: [], sideways: 0 });
      if (phone) await page.getByRole("button", { name: "Close menu" }).click();

      await page.getByRole("button", { name: "Conversation settings" }).click();
      const dialog = page.getByRole("dialog", { name: "Conversation settings" });
      for (const l of [
        dialog.getByRole("textbox", { name: "Title" }),
        dialog.getByRole("textbox", { name: "System prompt" }),
        dialog.getByRole("spinbutton", { name: "Temperature" }),
        dialog.getByRole("spinbutton", { name: "Max tokens" }),
        dialog.getByRole("button", { name: "Save" }),
        dialog.getByRole("button", { name: "Export JSON" }),
        dialog.getByRole("button", { name: "Export Markdown" }),
        dialog.getByRole("button", { name: "Delete conversation" }),
      ])
        await l.waitFor();
      expect(await layoutProblems(page)).toEqual({ small: [], sideways: 0 });
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });

      if (phone) await page.getByRole("button", { name: "Open menu" }).click();
      await page.getByRole("button", { name: "Settings", exact: true }).click();
      const settings = page.getByRole("dialog", { name: "Settings" });
      for (const l of [
        settings.getByRole("heading", { name: "Usage today" }),
        settings.getByRole("textbox", { name: "Key name" }),
        settings.getByRole("button", { name: "Create key" }),
        settings.getByLabel("Current password"),
        settings.getByLabel("New password"),
        settings.getByRole("button", { name: "Change password" }),
        settings.getByRole("button", { name: "Log out everywhere" }),
      ])
        await l.waitFor();
      expect(await layoutProblems(page)).toEqual({ small: [], sideways: 0 });
      await settings.getByRole("button", { name: "Close settings" }).click();

      // The keyboard hint shows where there is a keyboard and a fine pointer.
      expect(await page.getByText("Enter to send").isVisible()).toBe(true);
      expect(errors).toEqual([]);
      await context.close();
    });
  }

  it("hides the keyboard hint on a touch phone, and fits 360 px there too", async () => {
    const { context, page, errors } = await open({ viewport: PHONE, isMobile: true, hasTouch: true });
    await registerInPage(page);
    expect(await page.getByText("Enter to send").isVisible()).toBe(false);
    expect(await page.getByRole("textbox", { name: "Message" }).isVisible()).toBe(true);
    expect((await layoutProblems(page)).sideways).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("conversation settings: rename, system prompt, temperature and max tokens on each send, export, delete", async () => {
    const { context, page, errors } = await open({ viewport: WIDE, acceptDownloads: true });
    await registerInPage(page);
    await sendInPage(page, "First words");
    await waitForReply(page);
    await page.getByRole("button", { name: "Conversation settings" }).click();
    const dialog = page.getByRole("dialog", { name: "Conversation settings" });
    await dialog.getByRole("textbox", { name: "Title" }).fill("Renamed by hand");
    await dialog.getByRole("textbox", { name: "System prompt" }).fill("Answer like a pirate.");
    await dialog.getByRole("spinbutton", { name: "Temperature" }).fill("0.3");
    await dialog.getByRole("spinbutton", { name: "Max tokens" }).fill("64");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "hidden" });
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Renamed by hand");
    await page.getByRole("navigation", { name: "Conversations" }).getByRole("button", { name: "Renamed by hand" }).waitFor();

    const token = await tokenOf(page);
    const id = (await call(app.api, "GET", "/conversations", { token })).body.data[0].id;
    const stored = (await call(app.api, "GET", `/conversations/${id}`, { token })).body;
    expect(stored.title).toBe("Renamed by hand");
    expect(stored.system_prompt).toBe("Answer like a pirate.");

    const sent = page.waitForRequest((r) => r.method() === "POST" && /\/messages\/stream$/.test(r.url()));
    await sendInPage(page, "Again");
    expect((await sent).postDataJSON()).toMatchObject({ content: "Again", temperature: 0.3, max_tokens: 64 });
    await page.locator(".msg.assistant").nth(1).locator(".usage").waitFor();

    await page.getByRole("button", { name: "Conversation settings" }).click();
    expect(await dialog.getByRole("spinbutton", { name: "Temperature" }).inputValue()).toBe("0.3");
    const [json] = await Promise.all([page.waitForEvent("download"), dialog.getByRole("button", { name: "Export JSON" }).click()]);
    expect(json.suggestedFilename()).toMatch(/\.json$/);
    const exported = JSON.parse(readFileSync((await json.path())!, "utf8"));
    expect(exported.messages.map((m: { content: string }) => m.content)).toContain("Again");
    const [markdown] = await Promise.all([page.waitForEvent("download"), dialog.getByRole("button", { name: "Export Markdown" }).click()]);
    expect(markdown.suggestedFilename()).toMatch(/\.md$/);
    expect(readFileSync((await markdown.path())!, "utf8")).toContain("# Renamed by hand");

    page.once("dialog", (d) => d.accept());
    await dialog.getByRole("button", { name: "Delete conversation" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByText("Conversation deleted.").waitFor();
    expect(await page.locator(".conv").count()).toBe(0);
    expect((await call(app.api, "GET", `/conversations/${id}`, { token })).status).toBe(404);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("account settings at phone width: usage today, an API key shown once then revoked, a password change, log out everywhere", async () => {
    const { context, page, errors } = await open({ viewport: PHONE });
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    const email = await registerInPage(page);
    await sendInPage(page, "Count me");
    await waitForReply(page);
    await page.getByRole("button", { name: "Open menu" }).click();
    await page.getByRole("button", { name: "Settings", exact: true }).click();
    const settings = page.getByRole("dialog", { name: "Settings" });
    await settings.getByText(/^1 reply · \d+ tokens in · \d+ tokens out/).waitFor();

    await settings.getByRole("textbox", { name: "Key name" }).fill("laptop script");
    await settings.getByRole("button", { name: "Create key" }).click();
    const shown = settings.locator("#new-key-value");
    await expect.poll(() => shown.textContent()).toMatch(/^cak_/);
    const key = (await shown.textContent())!;
    await settings.getByRole("button", { name: "Copy API key" }).click();
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(key);
    expect((await call(app.api, "GET", "/auth/me", { token: key })).status).toBe(200);
    // The list never shows the key itself.
    await settings.getByRole("listitem").filter({ hasText: "laptop script" }).waitFor();
    expect(await settings.getByRole("list").textContent()).not.toContain(key);

    page.once("dialog", (d) => d.accept());
    await settings.getByRole("button", { name: "Revoke laptop script" }).click();
    await settings.getByText("No API keys yet.").waitFor();
    expect((await call(app.api, "GET", "/auth/me", { token: key })).status).toBe(401);

    await settings.getByLabel("Current password").fill("not my password");
    await settings.getByLabel("New password").fill("a much longer passphrase here");
    await settings.getByRole("button", { name: "Change password" }).click();
    await settings.getByText("Is incorrect.").waitFor();
    await settings.getByLabel("Current password").fill("correct horse battery");
    await settings.getByRole("button", { name: "Change password" }).click();
    await settings.getByText("Password changed. Every other session has been signed out.").waitFor();
    const elsewhere = await call(app.api, "POST", "/auth/login", { body: { email, password: "a much longer passphrase here" } });
    expect(elsewhere.status).toBe(200);
    expect((await layoutProblems(page)).sideways).toBe(0);

    // Log out everywhere: the sign-in elsewhere and this page's own both end, and the page signs out.
    const here = (await sessionOf(page))!.refresh_token;
    page.once("dialog", (d) => d.accept());
    await settings.getByRole("button", { name: "Log out everywhere" }).click();
    await page.getByText("Logged out everywhere: 2 sessions ended. Sign in again to continue.").waitFor();
    await settings.waitFor({ state: "hidden" });
    await page.getByRole("textbox", { name: "Email" }).waitFor();
    expect(await sessionOf(page)).toBeNull();
    for (const refresh_token of [here, elsewhere.body.refresh_token]) expect((await call(app.api, "POST", "/auth/refresh", { body: { refresh_token } })).status).toBe(401);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("dark mode follows the system, and the toggle overrides it and is remembered", async () => {
    const { context, page, errors } = await open({ viewport: WIDE, colorScheme: "dark" });
    const background = () => page.evaluate(() => (globalThis as any).getComputedStyle((globalThis as any).document.body).backgroundColor);
    expect(await background()).toBe("rgb(22, 22, 26)");
    const toggle = page.getByRole("button", { name: "Dark mode" });
    expect(await toggle.getAttribute("aria-pressed")).toBe("true");
    await toggle.click();
    expect(await background()).toBe("rgb(255, 255, 255)");
    expect(await toggle.getAttribute("aria-pressed")).toBe("false");
    await page.reload();
    expect(await background()).toBe("rgb(255, 255, 255)");
    // A light system, with dark chosen on the page: the choice wins.
    await page.emulateMedia({ colorScheme: "light" });
    await toggle.click();
    await page.reload();
    expect(await background()).toBe("rgb(22, 22, 26)");
    expect(await page.getByRole("button", { name: "Dark mode" }).getAttribute("aria-pressed")).toBe("true");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("axe-core finds no serious or critical violation, signed out and with a finished reply, light and dark, at both widths", async () => {
    const found: string[] = [];
    const scan = async (page: Page, what: string) => {
      if (!(await page.evaluate(() => Boolean((globalThis as any).axe)))) await page.addScriptTag({ content: AXE });
      const violations = await page.evaluate(async () => {
        const r = await (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ["violations"] });
        // A scan that checked nothing would find nothing: colour contrast and names must have been checked.
        const checked = new Set([...r.passes, ...r.violations, ...r.incomplete].map((x: any) => x.id));
        if (!checked.has("color-contrast") || !checked.has("button-name")) return ["the scan did not run its rules"];
        return r.violations
          .filter((v: any) => v.impact === "serious" || v.impact === "critical")
          .map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(" ")).join(", ")}`);
      });
      for (const v of violations) found.push(`${what} — ${v}`);
    };
    for (const [name, viewport] of [["1280", WIDE], ["360", PHONE]] as const) {
      for (const colorScheme of ["light", "dark"] as const) {
        const { context, page } = await open({ viewport, colorScheme });
        await page.getByRole("textbox", { name: "Email" }).waitFor();
        await scan(page, `signed out, ${name}, ${colorScheme}`);
        await registerInPage(page);
        await sendInPage(page, "Some **bold** text and `code`:\n\n```ts\nconst x: number = 1;\n```\n\nDone");
        await waitForReply(page);
        await page.getByRole("button", { name: "Regenerate reply" }).waitFor();
        await scan(page, `finished reply, ${name}, ${colorScheme}`);
        await context.close();
      }
    }
    expect(found).toEqual([]);
  });
});
