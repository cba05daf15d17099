// Markdown for replies: markdown-it parses (raw HTML off), highlight.js colours code, DOMPurify cleans
// the result before it reaches the page, so nothing a model writes can run. While a reply streams, text
// is split at the last blank line outside a code fence: blocks before it are rendered once and kept,
// only the block being written is rendered again, at most once per animation frame. When the reply
// ends it is rendered whole once, so constructs that span blocks (loose lists, references) come out right.
import MarkdownIt from "markdown-it";
import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/common";

const md = new MarkdownIt({
  html: false,
  linkify: true,
  breaks: false,
  highlight(code, lang) {
    try {
      if (lang && hljs.getLanguage(lang)) return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
      return hljs.highlightAuto(code).value;
    } catch {
      return "";
    }
  },
});

// Links from a model open in a new tab and give it no access to this one.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.getAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

/** Markdown as a sanitised DOM fragment, with a copy button on each code block. */
export function renderMarkdown(text) {
  const fragment = DOMPurify.sanitize(md.render(text), { RETURN_DOM_FRAGMENT: true });
  // The line breaks between blocks carry nothing, and would only pad the message's text when copied.
  for (const n of [...fragment.childNodes]) if (n.nodeType === Node.TEXT_NODE && !n.data.trim()) n.remove();
  for (const pre of fragment.querySelectorAll("pre")) {
    const code = pre.querySelector("code");
    const lang = code && [...code.classList].find((c) => c.startsWith("language-"));
    const box = document.createElement("div");
    box.className = "code";
    const bar = document.createElement("div");
    bar.className = "code-bar";
    const label = document.createElement("span");
    label.textContent = lang ? lang.slice("language-".length) : "code";
    const copy = copyButton(() => (code || pre).textContent, "Copy code");
    bar.append(label, copy);
    pre.replaceWith(box);
    box.append(bar, pre);
  }
  return fragment;
}

/** A button that copies `get()` to the clipboard and says so. */
export function copyButton(get, label) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "copy";
  b.textContent = "Copy";
  b.setAttribute("aria-label", label);
  b.onclick = async () => {
    const ok = await copyText(get());
    b.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => (b.textContent = "Copy"), 1500);
  };
  return b;
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (or not a secure context): the older selection-based copy.
    const t = document.createElement("textarea");
    t.value = text;
    t.setAttribute("readonly", "");
    t.style.position = "fixed";
    t.style.opacity = "0";
    document.body.append(t);
    t.select();
    const ok = document.execCommand("copy");
    t.remove();
    return ok;
  }
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Where the settled part of `text` ends: after the last blank line outside a fenced block that is
 * followed by a line starting at the margin (an indented line may still belong to the block above).
 * Scans from `from`, with the fence state there, so each character is read about once.
 */
function settle(text, from, fenceAtFrom) {
  let fence = fenceAtFrom;
  let cut = -1;
  let fenceAtCut = fence;
  let pos = from;
  let prevBlank = false;
  for (;;) {
    const nl = text.indexOf("\n", pos);
    if (nl < 0) break; // the last line is still being written
    const line = text.slice(pos, nl);
    const m = FENCE.exec(line);
    if (fence) {
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length && !line.slice(m[0].length).trim()) fence = null;
    } else if (m) {
      if (prevBlank) {
        cut = pos;
        fenceAtCut = null;
      }
      fence = m[1];
    } else if (prevBlank && line.trim() && !/^\s/.test(line)) {
      cut = pos;
      fenceAtCut = null;
    }
    prevBlank = !fence && !line.trim();
    pos = nl + 1;
  }
  // The line being written already starts at the margin after a blank line: what is above has settled.
  if (prevBlank && pos < text.length && !/^\s/.test(text[pos])) {
    cut = pos;
    fenceAtCut = null;
  }
  return { cut, fence: fenceAtCut };
}

/** The rendered text of one message, fed piece by piece while it streams. */
export class MarkdownView {
  constructor(root) {
    this.root = root;
    this.settled = document.createElement("div");
    this.settled.className = "settled";
    this.tail = document.createElement("div");
    this.tail.className = "tail";
    this.root.replaceChildren(this.settled, this.tail);
    this.text = "";
    this.done = 0; // characters of `text` rendered into `settled`
    this.frame = 0;
  }
  /** Shows the whole text at once (a stored message, or a reply that has ended). */
  set(text) {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.text = text;
    this.done = text.length;
    this.settled.replaceChildren(renderMarkdown(text));
    this.tail.replaceChildren();
  }
  append(piece) {
    this.text += piece;
    this.frame ||= requestAnimationFrame(() => this.flush());
  }
  /** Renders what arrived since the last frame: newly settled blocks once, the open block again. */
  flush() {
    this.frame = 0;
    const { cut } = settle(this.text, this.done, null);
    if (cut > this.done) {
      this.settled.append(renderMarkdown(this.text.slice(this.done, cut)));
      this.done = cut;
    }
    this.tail.replaceChildren(renderMarkdown(this.text.slice(this.done)));
  }
}
