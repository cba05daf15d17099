// The playground's browser harness, shared by the browser tests and `npm run screenshot`: Debian's
// Chromium driven by playwright-core, against the real local runtime (PGlite in memory, offline model)
// serving the playground as `npm start` does.
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from "playwright-core";
import { servePlayground } from "@conversation-api/web";
import { startApp, type TestApp } from "./app";
import { call, readSse, registerUser, stream } from "./http";

/** Debian's `chromium` package; CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const INSTALL_HINT = "install Chromium (Debian: `apt-get install -y chromium`) or set CHROMIUM_PATH";

/**
 * Null when the browser is there; otherwise why the browser tests skip. In CI a missing browser must
 * fail them, so there this throws instead.
 */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  const why = `no browser at ${CHROMIUM_PATH}: ${INSTALL_HINT}`;
  if (process.env.CI === "true" || process.env.CI === "1") throw new Error(`browser tests need Chromium in CI; ${why}`);
  return why;
}

// The machine has no network: nothing in the browser should try to reach it. Playwright makes a fresh
// temporary profile (--user-data-dir) for every launch.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
}

/** The runtime with the playground, as `npm start` serves it; offline replies are paced so streaming is visible. */
export async function startPlayground(env: Record<string, string> = {}): Promise<TestApp> {
  const app = await startApp({ OFFLINE_TOKEN_DELAY_MS: "15", ...env }, { extraRoutes: servePlayground });
  await warmUp(app.api);
  return app;
}

/**
 * Each handler module loads on its first request, as a cold start would, which on a busy machine takes
 * seconds: one pass through the routes the page uses keeps that out of the tests' waits.
 */
async function warmUp(api: string): Promise<void> {
  const { token } = await registerUser(api, "warm-up");
  const conv = await call(api, "POST", "/conversations", { token, body: {} });
  await call(api, "PATCH", `/conversations/${conv.body.id}`, { token, body: { title: "warm-up" } });
  await readSse(await stream(api, conv.body.id, token, { content: "warm up" }));
  await call(api, "GET", `/conversations/${conv.body.id}`, { token });
  await call(api, "GET", "/conversations", { token });
  await call(api, "GET", "/auth/me", { token });
  await call(api, "POST", "/auth/login", { body: {} });
}

export interface Session {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

/** A fresh context (its own storage) and page, recording console errors. */
export async function openPlayground(browser: Browser, url: string, viewport = { width: 1200, height: 800 }): Promise<Session> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  // Shorter than the test timeout, so a failing wait names what it waited for.
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e: Error) => errors.push(`pageerror: ${e.message}`));
  await page.goto(url + "/");
  return { context, page, errors, close: () => context.close() };
}

let counter = 0;
/** A unique address per call, so tests sharing one database never collide. */
export const freshEmail = (prefix = "web") => `${prefix}-${process.pid}-${Date.now()}-${++counter}@example.com`;

/** Registers through the form and waits until the page shows the signed-in user. */
export async function registerInPage(page: Page, email = freshEmail(), password = "correct horse battery"): Promise<string> {
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("#register");
  // Attached, not visible: at phone width the menu that holds it closes on sign-in.
  await page.locator("#who").filter({ hasText: email }).waitFor({ state: "attached" });
  return email;
}

/** Types a message and sends it with Enter. */
export async function sendInPage(page: Page, text: string): Promise<void> {
  await page.fill("#content", text);
  await page.press("#content", "Enter");
}

/** Waits until the newest reply has finished (its usage line is shown). */
export async function waitForReply(page: Page): Promise<void> {
  await page.locator(".msg.assistant").last().locator(".usage").waitFor();
}

export interface StreamSample {
  text: string;
  sendDisabled: boolean;
  stopShown: boolean;
  finished: boolean;
}

/**
 * Records, at every change of the message list, the newest reply's text and the composer's state, so a
 * test can see a reply grow (and Send stay disabled meanwhile) without sampling on a timer.
 */
export async function recordReplies(page: Page): Promise<() => Promise<StreamSample[]>> {
  await page.evaluate(() => {
    const g = globalThis as any;
    const d = g.document;
    g.__samples = [];
    const log = d.getElementById("log");
    new g.MutationObserver(() => {
      const replies = log.querySelectorAll(".msg.assistant");
      const last = replies[replies.length - 1];
      if (!last) return;
      g.__samples.push({
        text: last.querySelector(".body").textContent,
        sendDisabled: d.getElementById("send").disabled,
        stopShown: !d.getElementById("stop").hidden,
        finished: Boolean(last.querySelector(".usage")),
      });
    }).observe(log, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => (globalThis as any).__samples as StreamSample[]);
}

/** Visible controls smaller than 24×24 px, described, and how far the page scrolls sideways. */
export function layoutProblems(page: Page) {
  return page.evaluate(() => {
    const d = (globalThis as any).document;
    const small: string[] = [];
    for (const e of d.querySelectorAll("button, input, select, textarea, a[href], summary")) {
      if (!e.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
      const r = e.getBoundingClientRect();
      if (r.width < 24 || r.height < 24) small.push(`${e.tagName.toLowerCase()}#${e.id}.${e.className} "${(e.getAttribute("aria-label") ?? e.textContent).trim()}" ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
    return { small, sideways: d.documentElement.scrollWidth - d.documentElement.clientWidth };
  });
}
