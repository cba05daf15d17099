// The playground's markdown view in Chromium, on its own (bundled the way the server bundles the page):
// while a reply streams, blocks that have settled are rendered once and kept, only the block being
// written is rendered again, and at most once per animation frame; the end renders the whole text once.
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserMissing, launchBrowser } from "../../../tests/support/browser";

const missing = browserMissing();
if (missing) console.warn(`playground browser tests skipped: ${missing}`);

const bundle = () =>
  buildSync({
    entryPoints: [fileURLToPath(new URL("../src/markdown.js", import.meta.url))],
    bundle: true,
    format: "iife",
    globalName: "markdown",
    write: false,
    logLevel: "silent",
  }).outputFiles[0]!.text;

describe.skipIf(missing)("markdown view in Chromium", { timeout: 60_000 }, () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.setContent("<!doctype html><div id=root></div>");
    await page.addScriptTag({ content: bundle() });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("renders settled blocks once and only the open block again, once per frame", async () => {
    const r = await page.evaluate(async () => {
      const g = globalThis as any;
      const frame = () => new Promise((done) => g.requestAnimationFrame(() => g.requestAnimationFrame(done)));
      const root = g.document.getElementById("root");
      const view = new g.markdown.MarkdownView(root);
      const settled = root.querySelector(".settled");
      const tail = root.querySelector(".tail");
      const out: Record<string, unknown> = {};

      // Many pieces in one frame: nothing is parsed until the frame comes.
      for (const piece of ["First ", "**para", "graph**", "\n\n", "Second", " one"]) view.append(piece);
      out.beforeFrame = root.textContent;
      await frame();
      out.afterFrame = { settled: settled.innerHTML, tail: tail.innerHTML };
      const first = settled.firstElementChild;

      // A fence stays one open block (blank lines inside it settle nothing) until it closes.
      view.append("\n\n```js\nconst a = 1;\n\nlet b = 2;\n");
      await frame();
      out.openFence = { settledBlocks: settled.children.length, tailCode: tail.querySelector("pre code")?.textContent ?? null };
      view.append("```\n\nThe end");
      await frame();
      out.closed = {
        sameFirst: settled.firstElementChild === first,
        settledTags: [...settled.children].map((c: any) => c.tagName + (c.className ? "." + c.className : "")),
        tail: tail.textContent,
      };
      // An indented line after a blank line may belong to the block above: it does not settle it.
      view.append("\n\n- item\n\n  more of the item");
      await frame();
      out.listOpen = tail.querySelectorAll("li").length;
      view.set(view.text);
      out.whole = { text: view.text.length, items: settled.querySelectorAll("li").length, tail: tail.childNodes.length };
      return out;
    });
    expect(r.beforeFrame).toBe("");
    expect(r.afterFrame).toEqual({ settled: "<p>First <strong>paragraph</strong></p>", tail: "<p>Second one</p>" });
    expect(r.openFence).toEqual({ settledBlocks: 2, tailCode: "const a = 1;\n\nlet b = 2;\n" });
    expect(r.closed).toEqual({ sameFirst: true, settledTags: ["P", "P", "DIV.code"], tail: "The end" });
    expect(r.listOpen).toBe(1);
    expect(r.whole).toEqual({ text: expect.any(Number), items: 1, tail: 0 });
  });

  it("sanitises: no script, no event handler, no javascript: link survives", async () => {
    const r = await page.evaluate(() => {
      const g = globalThis as any;
      const box = g.document.createElement("div");
      box.append(g.markdown.renderMarkdown('<img src=x onerror="alert(1)"> <script>alert(2)</script> [x](javascript:alert(3)) [ok](https://example.com)'));
      return { dangerous: box.querySelectorAll("script, img, [onerror], a[href^='javascript']").length, links: box.querySelectorAll("a").length, text: box.textContent };
    });
    expect(r.dangerous).toBe(0);
    expect(r.links).toBe(1);
    expect(r.text).toContain('<img src=x onerror="alert(1)"> <script>alert(2)</script>');
  });
});
