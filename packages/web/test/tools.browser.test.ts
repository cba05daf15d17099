// Tools in the playground, in Chromium against the local runtime with the offline model, which calls
// the first tool it is offered with arguments its schema accepts and then answers from the tool's
// result: the demo tool's whole loop (its call shown live, answered by the page, the reply quoting the
// result, and the same after a reload), a call of another tool answered by a typed result marked as an
// error, and axe-core over the calls, the results and the answer form.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "../../../tests/support/app";
import { browserMissing, launchBrowser, layoutProblems, openPlayground, registerInPage, sendInPage, startPlayground } from "../../../tests/support/browser";
import { call, readSse, stream } from "../../../tests/support/http";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const missing = browserMissing();
if (missing) console.warn(`playground browser tests skipped: ${missing}`);

const tokenOf = (page: Page) =>
  page.evaluate(() => JSON.parse((globalThis as any).localStorage.getItem("playground.session")).access_token as string);

/** The bodies of the page's sends, in order. */
function recordSends(page: Page): any[] {
  const sends: any[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && /\/conversations\/[^/]+\/messages\/stream$/.test(r.url())) sends.push(r.postDataJSON());
  });
  return sends;
}

/** Serious or critical axe-core violations on the page, as "rule: targets". */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => Boolean((globalThis as any).axe)))) await page.addScriptTag({ content: AXE });
  return page.evaluate(async () => {
    const r = await (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ["violations"] });
    const checked = new Set([...r.passes, ...r.violations, ...r.incomplete].map((x: any) => x.id));
    if (!checked.has("color-contrast") || !checked.has("label")) return ["the scan did not run its rules"];
    return r.violations
      .filter((v: any) => v.impact === "serious" || v.impact === "critical")
      .map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(" ")).join(", ")}`);
  });
}

const replies = (page: Page) => page.getByRole("article", { name: "Assistant replied" });
const results = (page: Page) => page.getByRole("article", { name: "Tool result" });

/** Waits until the `n`th reply (from 0) has finished. */
const replyDone = (page: Page, n: number) => replies(page).nth(n).locator(".usage").waitFor();

/** Opens a disclosure by its summary and returns the text inside it. */
async function expand(page: Page, summary: string): Promise<string> {
  const details = page.locator("details.tool", { has: page.locator("summary", { hasText: summary }) });
  expect(await details.evaluate((d) => (d as any).open)).toBe(false);
  await details.locator("summary").click();
  expect(await details.evaluate((d) => (d as any).open)).toBe(true);
  return (await details.locator("pre").textContent()) ?? "";
}

describe.skipIf(missing)("playground tools in Chromium", { timeout: 90_000 }, () => {
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startPlayground(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("the demo tool: its call streams into view with its arguments, the page answers it, the reply quotes the result; a reload shows the same", async () => {
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await registerInPage(page);
    const sends = recordSends(page);
    const toggle = page.getByRole("checkbox", { name: "Offer the demo tool get_time" });
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check();
    // What the call's disclosure said while it streamed, to see it grow live.
    await page.evaluate(() => {
      const g = globalThis as any;
      g.__summaries = [];
      new g.MutationObserver(() => {
        for (const sm of g.document.querySelectorAll("#log .tool-call summary")) g.__summaries.push(sm.textContent);
      }).observe(g.document.getElementById("log"), { subtree: true, childList: true, characterData: true });
    });

    await sendInPage(page, "What time is it?");
    await replyDone(page, 1);

    // The first send offered the tool with its JSON Schema; the second answered its call, offering it again.
    expect(sends).toHaveLength(2);
    expect(sends[0].content).toBe("What time is it?");
    expect(sends[0].tools).toEqual([expect.objectContaining({ name: "get_time", input_schema: expect.objectContaining({ type: "object", required: ["timezone"] }) })]);
    const token = await tokenOf(page);
    const list = await call(app.api, "GET", "/conversations", { token });
    const stored = (await call(app.api, "GET", `/conversations/${list.body.data[0].id}`, { token })).body.messages;
    expect(stored.map((m: any) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    const [callBlock] = stored[1].tool_use;
    expect(callBlock).toMatchObject({ name: "get_time", input: { timezone: "UTC" } });
    expect(sends[1].content).toEqual([{ type: "tool_result", tool_use_id: callBlock.id, content: expect.stringMatching(/\(UTC\)$/), is_error: false }]);
    expect(sends[1].tools).toEqual(sends[0].tools);
    const time = sends[1].content[0].content as string;
    expect(stored[2].tool_result).toEqual([{ type: "tool_result", tool_use_id: callBlock.id, content: time, is_error: false }]);

    // Live: "Calling get_time…" while the arguments streamed, then "Called get_time".
    const seen: string[] = await page.evaluate(() => (globalThis as any).__summaries);
    expect(seen).toContain("Calling get_time…");
    expect(seen.at(-1)).toBe("Called get_time");

    const check = async () => {
      // Collapsed until opened, like reasoning: the arguments as pretty JSON, then the result.
      expect(await expand(page, "Called get_time")).toBe('{\n  "timezone": "UTC"\n}');
      expect(await results(page).count()).toBe(1);
      expect(await expand(page, "Result from get_time")).toBe(time);
      expect(await replies(page).nth(1).locator(".body").textContent()).toContain(`The tool returned: "${time}"`);
      // Answered: no form is waiting.
      expect(await page.getByRole("form", { name: "Answer the tool calls" }).count()).toBe(0);
    };
    await check();
    expect(await axeViolations(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await axeViolations(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: "light" });
    expect(await layoutProblems(page)).toEqual({ small: [], sideways: 0 });

    await page.reload();
    await replyDone(page, 1);
    expect(await page.getByRole("checkbox", { name: "Offer the demo tool get_time" }).isChecked()).toBe(true);
    await check();
    expect(sends).toHaveLength(2);
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("another tool's call, at phone width: the person types its result, marks it an error and sends it; the reply answers from it, also after a reload", async () => {
    const s = await openPlayground(browser, app.url, { width: 360, height: 740 });
    const { page } = s;
    await registerInPage(page);
    // A conversation whose reply called a tool the page does not know, made through the API.
    const token = await tokenOf(page);
    const conv = await call(app.api, "POST", "/conversations", { token, body: {} });
    const tool = { name: "lookup_order", input_schema: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] } };
    const events = await readSse(await stream(app.api, conv.body.id, token, { content: "Where is my order?", tools: [tool] }));
    expect(events.find((e) => e.event === "message_delta")?.data.delta.stop_reason).toBe("tool_use");
    await page.evaluate((id) => (globalThis as any).localStorage.setItem("playground.current", JSON.stringify(id)), conv.body.id);
    await page.reload();
    await replyDone(page, 0);
    const sends = recordSends(page);

    expect(await expand(page, "Called lookup_order")).toBe('{\n  "order_id": "example"\n}');
    const form = page.getByRole("form", { name: "Answer the tool calls" });
    const box = form.getByRole("textbox", { name: "Result of lookup_order" });
    expect(await box.inputValue()).toBe("");
    await form.getByRole("button", { name: "Send result" }).click();
    await form.getByRole("alert").filter({ hasText: "Type a result for lookup_order first." }).waitFor();
    expect(await box.getAttribute("aria-invalid")).toBe("true");
    expect(await axeViolations(page)).toEqual([]);
    expect(await layoutProblems(page)).toEqual({ small: [], sideways: 0 });
    // The API takes no other message until the call is answered: the composer says so and sends nothing.
    await sendInPage(page, "Hello?");
    await page.getByRole("alert").filter({ hasText: "The reply is waiting for tool results: answer them above first." }).waitFor();
    expect(await box.evaluate((e) => e === (globalThis as any).document.activeElement)).toBe(true);
    expect(sends).toEqual([]);

    await box.fill("Order 42 was lost in transit");
    await form.getByRole("checkbox", { name: "lookup_order failed: send this as an error" }).check();
    await form.getByRole("button", { name: "Send result" }).click();
    await replyDone(page, 1);
    const toolUseId = (await call(app.api, "GET", `/conversations/${conv.body.id}`, { token })).body.messages[1].tool_use[0].id;
    expect(sends).toEqual([{ content: [{ type: "tool_result", tool_use_id: toolUseId, content: "Order 42 was lost in transit", is_error: true }] }]);

    const check = async () => {
      expect(await expand(page, "Error from lookup_order")).toBe("Order 42 was lost in transit");
      expect(await replies(page).nth(1).locator(".body").textContent()).toContain('The tool failed with: "Order 42 was lost in transit"');
      expect(await page.getByRole("form", { name: "Answer the tool calls" }).count()).toBe(0);
    };
    await check();
    await page.reload();
    await replyDone(page, 1);
    await check();
    expect(s.errors).toEqual([]);
    await s.close();
  });

  it("a get_time call found unanswered on a reload is not run by itself: the form holds the demo tool's answer, here an unknown zone's error", async () => {
    const s = await openPlayground(browser, app.url);
    const { page } = s;
    await registerInPage(page);
    await page.getByRole("checkbox", { name: "Offer the demo tool get_time" }).check();
    const token = await tokenOf(page);
    const conv = await call(app.api, "POST", "/conversations", { token, body: {} });
    // The offline model fills in the default: a zone that does not exist.
    const tool = { name: "get_time", input_schema: { type: "object", properties: { timezone: { type: "string", default: "Mars/Olympus_Mons" } }, required: ["timezone"] } };
    await readSse(await stream(app.api, conv.body.id, token, { content: "What time is it on Mars?", tools: [tool] }));
    await page.evaluate((id) => (globalThis as any).localStorage.setItem("playground.current", JSON.stringify(id)), conv.body.id);
    const sends = recordSends(page);
    await page.reload();
    await replyDone(page, 0);

    const form = page.getByRole("form", { name: "Answer the tool calls" });
    const error = 'Unknown time zone "Mars/Olympus_Mons": use an IANA name such as Europe/Paris.';
    expect(await form.getByRole("textbox", { name: "Result of get_time" }).inputValue()).toBe(error);
    expect(await form.getByRole("checkbox", { name: "get_time failed: send this as an error" }).isChecked()).toBe(true);
    expect(sends).toEqual([]);
    await form.getByRole("button", { name: "Send result" }).click();
    await replyDone(page, 1);
    expect(sends).toHaveLength(1);
    expect(sends[0].content).toEqual([{ type: "tool_result", tool_use_id: expect.any(String), content: error, is_error: true }]);
    expect(await expand(page, "Error from get_time")).toBe(error);
    expect(await replies(page).nth(1).locator(".body").textContent()).toContain(`The tool failed with: "${error}"`);
    expect(s.errors).toEqual([]);
    await s.close();
  });
});
