// `npm run screenshot`: writes the docs' pictures of the playground with the browser tests' harness
// (Debian's Chromium, the real local runtime, the offline model, which echoes what it is sent, so a
// message in markdown shows a rendered reply): docs/playground.png (1280×760), docs/playground-phone.png
// (360×740) and docs/playground-dark.png (1280×760, dark scheme).
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { browserMissing, launchBrowser, openPlayground, registerInPage, sendInPage, startPlayground, waitForReply } from "../tests/support/browser";

const missing = browserMissing();
if (missing) {
  console.error(`screenshot: ${missing}`);
  process.exit(1);
}

const docs = new URL("../docs/", import.meta.url);
const EXAMPLE = [
  "How does a client **resume** a stream?",
  "",
  "1. Keep the last `id:` it saw",
  "2. Reconnect with `Last-Event-ID`",
  "",
  "```ts",
  "const res = await fetch(url, { headers: { \"last-event-id\": last } });",
  "```",
  "",
  "Thanks!",
].join("\n");

async function fill(page: Page, email: string) {
  await registerInPage(page, email);
  for (const text of ["Plan a weekend in Lisbon", "Explain Server-Sent Events"]) {
    // At phone width the button is in the menu.
    if (await page.isVisible("#menu")) await page.click("#menu");
    await page.click("#new");
    await sendInPage(page, text);
    await waitForReply(page);
  }
  await sendInPage(page, EXAMPLE);
  await waitForReply(page);
  await page.locator(".msg.assistant").last().locator(".regenerate").waitFor();
}

async function shoot(browser: Browser, url: string, name: string, opts: { width: number; height: number; dark?: boolean }) {
  const s = await openPlayground(browser, url, { width: opts.width, height: opts.height });
  const { page } = s;
  if (opts.dark) await page.emulateMedia({ colorScheme: "dark" });
  await fill(page, name ? `ada.lovelace+${name}@example.com` : "ada.lovelace@example.com");
  await page.fill("#content", "One more question…");
  const out = new URL(`playground${name ? "-" + name : ""}.png`, docs);
  await page.screenshot({ path: out.pathname });
  if (s.errors.length) throw new Error(`console errors: ${s.errors.join("; ")}`);
  console.log(`wrote ${out.pathname}`);
  await s.close();
}

const app = await startPlayground();
const browser = await launchBrowser();
try {
  mkdirSync(docs, { recursive: true });
  await shoot(browser, app.url, "", { width: 1280, height: 760 });
  await shoot(browser, app.url, "phone", { width: 360, height: 740 });
  await shoot(browser, app.url, "dark", { width: 1280, height: 760, dark: true });
} finally {
  await browser.close();
  await app.close();
}
