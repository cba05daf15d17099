// `npm run screenshot`: writes docs/playground.png, the README's picture of the playground, with the
// browser tests' harness (Debian's Chromium, the real local runtime, the offline model).
import { mkdirSync } from "node:fs";
import { browserMissing, launchBrowser, openPlayground, registerInPage, sendInPage, startPlayground, waitForReply } from "../tests/support/browser";

const missing = browserMissing();
if (missing) {
  console.error(`screenshot: ${missing}`);
  process.exit(1);
}

const out = new URL("../docs/playground.png", import.meta.url);
const app = await startPlayground();
const browser = await launchBrowser();
try {
  const s = await openPlayground(browser, app.url, { width: 1280, height: 760 });
  const { page } = s;
  await registerInPage(page, "ada.lovelace@example.com");
  for (const text of ["Plan a weekend in Lisbon", "Explain Server-Sent Events"]) {
    await page.click("#new");
    await sendInPage(page, text);
    await waitForReply(page);
  }
  await sendInPage(page, "And how does a client resume after a dropped connection?");
  await waitForReply(page);
  await page.fill("#content", "Thanks! One more question…");
  mkdirSync(new URL("../docs/", import.meta.url), { recursive: true });
  await page.screenshot({ path: out.pathname });
  if (s.errors.length) throw new Error(`console errors: ${s.errors.join("; ")}`);
  console.log(`wrote ${out.pathname}`);
} finally {
  await browser.close();
  await app.close();
}
