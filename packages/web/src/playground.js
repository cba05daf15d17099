// The playground: a chat app that uses the API exactly as any client would (bearer tokens, JSON,
// Server-Sent Events). Its libraries (markdown-it, DOMPurify, highlight.js) are bundled with it by the
// server that serves it; nothing comes from a CDN. Features newer than the API it talks to (cancel,
// resume, regenerate, branches, search, models, export, keys) are switched on from the API's own
// OpenAPI document, so the page works against older and newer servers alike.
import { $, API, ApiError, api, button, capitalise, clearFieldErrors, el, hooks, humanError, request, saved, seconds, setSession, showError, state } from "./client.js";
import { copyButton, MarkdownView } from "./markdown.js";
import { openConversationSettings, openSettings, prefsFor, wireDialogs } from "./dialogs.js";
import { applyTheme, wireTheme } from "./theme.js";
import { answerForm, DEMO_TOOL, demoTool, runDemoTool, ToolCallView, toolResultView } from "./tools.js";

applyTheme();

/** Which optional routes and fields the server has, from its OpenAPI document. */
async function detectFeatures() {
  try {
    const doc = await (await fetch("/openapi.json")).json();
    const paths = Object.entries(doc.paths || {});
    const has = (re, method) => paths.some(([p, ops]) => re.test(p) && ops[method]);
    const f = state.features;
    f.cancel = has(/\/messages\/\{[^}]+\}\/cancel$/, "post");
    f.resume = has(/\/messages\/\{[^}]+\}\/stream$/, "get");
    f.regenerate = has(/\/messages\/\{[^}]+\}\/regenerate$/, "post");
    f.branch = has(/\/conversations\/\{[^}]+\}\/branch$/, "post");
    f.models = has(/\/models$/, "get");
    f.export = has(/\/conversations\/\{[^}]+\}\/export$/, "get");
    f.keys = has(/\/api-keys$/, "post");
    f.usage = has(/\/usage$/, "get");
    f.password = has(/\/auth\/password$/, "post");
    f.logoutAll = has(/\/auth\/logout-all$/, "post");
    const list = doc.paths[API + "/conversations"];
    f.search = Boolean(list && list.get && (list.get.parameters || []).some((p) => p.name === "q"));
    const send = doc.paths[API + "/conversations/{id}/messages/stream"];
    let schema = send && send.post && send.post.requestBody && send.post.requestBody.content["application/json"].schema;
    if (schema && schema.$ref) schema = doc.components.schemas[schema.$ref.split("/").pop()];
    const props = (schema && schema.properties) || {};
    f.edit = Boolean(props.parent_id);
    f.tools = Boolean(props.tools);
    // Content is a string, or (where the API takes tool results) a string or a list of blocks.
    const deref = (x) => (x && x.$ref ? doc.components.schemas[x.$ref.split("/").pop()] : x) || {};
    const content = deref(props.content);
    const forms = (content.anyOf || content.oneOf || [content]).map(deref);
    f.toolResults = forms.some((x) => x.type === "array");
    const max = (forms.find((x) => x.type === "string") || {}).maxLength;
    if (max) state.maxChars = max;
  } catch {
    // No document: the page still does everything the base API offers.
  }
  $("search").hidden = !state.features.search || !state.session;
  $("demo-tool-row").hidden = !state.features.tools;
}

// ---------------------------------------------------------------- small UI helpers

function hint(text) {
  $("hint").textContent = text || "";
}

/** The one live region: it speaks a reply once it has ended, never token by token. */
function announce(text) {
  $("announce").textContent = "";
  // A fresh text node after clearing, so the same words are spoken again when they repeat.
  requestAnimationFrame(() => ($("announce").textContent = text));
}

const narrow = () => window.matchMedia("(max-width: 760px)").matches;
function sidebar(open) {
  document.body.classList.toggle("sidebar-open", open);
}

/** Keeps the newest text in view, unless the reader scrolled up to read something older. */
function scrollToEnd(force = false) {
  const log = $("log");
  if (force || log.scrollHeight - log.scrollTop - log.clientHeight < 120) log.scrollTop = log.scrollHeight;
}

function autosize() {
  const t = $("content");
  t.style.height = "auto";
  t.style.height = Math.min(t.scrollHeight + 2, window.innerHeight * 0.4) + "px";
}

/** Shows the length once a message nears the API's limit, and how far over it is past it. */
function updateCounter() {
  const n = $("content").value.length;
  const max = state.maxChars;
  const c = $("counter");
  c.classList.toggle("over", n > max);
  if (n < max * 0.8) c.textContent = "";
  else if (n <= max) c.textContent = `${n.toLocaleString("en")} / ${max.toLocaleString("en")} characters`;
  else c.textContent = `${(n - max).toLocaleString("en")} ${n - max === 1 ? "character" : "characters"} over the ${max.toLocaleString("en")} limit`;
}

// ---------------------------------------------------------------- session

function forgetSession() {
  setSession(null);
  saved.set("current", null);
  state.current = null;
  state.conversation = null;
  state.messages = [];
  renderAccount();
  renderMessages();
  $("convs").replaceChildren();
}
hooks.sessionEnded = () => {
  forgetSession();
  hint("Your session has ended: sign in again.");
};

function renderAccount() {
  const signedIn = Boolean(state.session);
  $("auth").hidden = signedIn;
  $("account").hidden = !signedIn;
  $("search").hidden = !signedIn || !state.features.search;
  $("conv-settings").hidden = !signedIn;
  $("who").textContent = signedIn ? state.session.email : "";
  $("who").title = signedIn ? state.session.email : "";
}

async function signIn(kind) {
  clearFieldErrors($("auth"));
  $("auth-error").textContent = "";
  hint("");
  const body = { email: $("email").value, password: $("password").value };
  try {
    const r = await api("POST", "/auth/" + kind, body);
    setSession({ access_token: r.access_token, refresh_token: r.refresh_token, email: r.user.email });
    $("password").value = "";
    renderAccount();
    if (narrow()) sidebar(false);
    await afterSignIn();
    $("content").focus();
  } catch (e) {
    showError(e, (text) => ($("auth-error").textContent = text), $("auth"));
  }
}

async function logout() {
  const refreshToken = state.session && state.session.refresh_token;
  if (refreshToken) {
    // Revokes the refresh token on the server; the short-lived access token simply expires.
    await request("POST", "/auth/logout", { body: { refresh_token: refreshToken } }).catch(() => {});
  }
  signedOut("");
}

/** This page's side of signing out, once the server has revoked the session: `message` says why. */
function signedOut(message) {
  if (state.streaming) state.streaming.controller.abort();
  forgetSession();
  hint(message);
  // On a phone the sign-in form is in the menu, as on a signed-out start.
  if (narrow()) sidebar(true);
  $("email").focus();
}

/** Reopens the conversation this tab had open, or else the one this account had open last. */
async function afterSignIn() {
  await loadConversations();
  const last = saved.get("current") ?? saved.get("last:" + state.session.email);
  if (last) await openConversation(last);
  else renderMessages();
}

// ---------------------------------------------------------------- conversations

let searchSeq = 0;

async function loadConversations() {
  if (!state.session) return;
  const q = state.features.search ? $("search").value.trim() : "";
  const seq = ++searchSeq;
  try {
    const list = await api("GET", `/conversations?limit=50${q ? `&q=${encodeURIComponent(q)}` : ""}`);
    if (seq !== searchSeq) return;
    renderConversations(list.data, q);
  } catch (e) {
    hint(humanError(e));
  }
}

/** The plain words of a search (no OR, no -excluded words, no quotes), to mark where they matched. */
function searchWords(q) {
  return q
    .replace(/"/g, " ")
    .split(/\s+/)
    .filter((w) => w && w !== "OR" && !w.startsWith("-"))
    .map((w) => w.toLowerCase());
}

/** `text` as nodes with each whole-word match of `words` in a <mark>. */
function marked(text, words) {
  if (!words.length) return [document.createTextNode(text)];
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp(`(?<![\\p{L}\\p{N}])(${escaped.join("|")})(?![\\p{L}\\p{N}])`, "giu");
  const out = [];
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) out.push(document.createTextNode(text.slice(at, m.index)));
    out.push(el("mark", null, m[0]));
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(document.createTextNode(text.slice(at)));
  return out;
}

/** Up to ~90 characters of `text` around the first match of `words`, or null. */
function snippetOf(text, words) {
  const flat = text.replace(/\s+/g, " ");
  const lower = flat.toLowerCase();
  let at = -1;
  for (const w of words) {
    const re = new RegExp(`(?<![\\p{L}\\p{N}])${w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\p{L}\\p{N}])`, "u");
    const m = re.exec(lower);
    if (m && (at < 0 || m.index < at)) at = m.index;
  }
  if (at < 0) return null;
  const start = Math.max(0, at - 30);
  return (start > 0 ? "…" : "") + flat.slice(start, start + 90) + (start + 90 < flat.length ? "…" : "");
}

function renderConversations(list, q = "") {
  const nav = $("convs");
  if (!list.length && q) {
    nav.replaceChildren(el("p", "no-match", "No conversations match"));
    return;
  }
  const words = searchWords(q);
  nav.replaceChildren(...list.map((c) => conversationButton(c, words)));
  // The list says only which conversations matched, not where: a match outside the title is found in
  // the messages of the first few results.
  if (words.length) {
    for (const c of list.slice(0, 10)) {
      if (snippetOf(c.title || "", words)) continue;
      api("GET", "/conversations/" + c.id)
        .then((full) => {
          const text = full.messages.map((m) => snippetOf(m.content, words)).find(Boolean);
          const b = nav.querySelector(`.conv[data-id="${CSS.escape(c.id)}"]`);
          if (!text || !b) return;
          const snippet = el("span", "snippet");
          snippet.replaceChildren(...marked(text, words));
          b.append(snippet);
        })
        .catch(() => {});
    }
  }
  // The API titles a new conversation once its first reply has ended (the stream closes after that),
  // and this list is re-read then: the open conversation's heading follows.
  const open = list.find((c) => c.id === state.current);
  if (open && state.conversation && state.conversation.id === open.id && open.title !== state.conversation.title) {
    state.conversation.title = open.title;
    $("title").textContent = open.title || "New conversation";
  }
}

function conversationButton(c, words = []) {
  const b = el("button", "conv");
  b.type = "button";
  b.dataset.id = c.id;
  const title = el("span", "conv-title");
  title.replaceChildren(...marked(c.title || "New conversation", words));
  b.append(title);
  if (c.id === state.current) b.setAttribute("aria-current", "page");
  b.onclick = () => {
    if (narrow()) sidebar(false);
    openConversation(c.id);
  };
  return b;
}

function markActive() {
  for (const b of $("convs").querySelectorAll(".conv")) {
    if (b.dataset.id === state.current) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
}

async function newConversation() {
  if (!state.session) return hint("Sign in first: register or log in.");
  if (narrow()) sidebar(false);
  // An empty conversation is already a new one; don't pile up more.
  if (state.current && state.messages.length === 0 && !state.streaming) return $("content").focus();
  state.opening ??= (async () => {
    try {
      const c = await api("POST", "/conversations", {});
      $("convs").querySelector(".no-match")?.remove();
      $("convs").prepend(conversationButton(c));
      await openConversation(c.id, c);
      $("content").focus();
    } catch (e) {
      hint(humanError(e));
    }
  })().finally(() => (state.opening = null));
  return state.opening;
}

async function openConversation(id, known) {
  if (state.streaming && state.streaming.conversationId !== id) {
    // Leave the reply running on the server (or, on an API without durable replies, let it stop).
    state.streaming.controller.abort();
    state.streaming = null;
    setStreaming(false);
  }
  if (state.editing) state.editing.close();
  state.current = id;
  saved.set("current", id);
  if (state.session) saved.set("last:" + state.session.email, id);
  markActive();
  hint("");
  try {
    const c = known ? { ...known, messages: [] } : await api("GET", "/conversations/" + id);
    state.conversation = c;
    state.messages = c.messages;
  } catch (e) {
    state.current = null;
    saved.set("current", null);
    if (state.session) saved.set("last:" + state.session.email, null);
    state.conversation = null;
    state.messages = [];
    if (!(e instanceof ApiError) || e.status !== 404) hint(humanError(e));
  }
  renderMessages();
  syncModel();
  const last = state.messages[state.messages.length - 1];
  if (last && last.role === "assistant" && last.finish_reason === null && !state.streaming) reattach(last);
}

// ---------------------------------------------------------------- messages

/** The ReplyView of each assistant message on screen, by id (to reattach a reply still streaming). */
const replyViews = new Map();

function renderMessages() {
  const log = $("log");
  log.replaceChildren();
  replyViews.clear();
  $("title").textContent = (state.conversation && state.conversation.title) || "New conversation";
  if (!state.messages.length) {
    const empty = el("div", "empty");
    const icon = document.createElement("img");
    icon.src = "/favicon.svg";
    icon.alt = "";
    icon.width = icon.height = 40;
    empty.append(icon, el("p", null, state.session ? "Send a message to start. Replies stream token by token." : "Register or log in to start chatting."));
    log.append(empty);
    return;
  }
  const names = toolNames(state.messages);
  let view = null;
  for (const m of state.messages) {
    if (m.role === "user") {
      log.append(userView(m, names));
      view = null;
      continue;
    }
    view = new ReplyView(m);
    replyViews.set(m.id, view);
    log.append(view.root);
  }
  // A reply that called tools and is still unanswered: the calls are answered here.
  if (view && view.message.finish_reason === "tool_use") offerAnswers(view);
  scrollToEnd(true);
}

/** The name of each tool call in `messages`, by its id (a result names only the call it answers). */
function toolNames(messages) {
  const names = new Map();
  for (const m of messages) for (const c of m.tool_use || []) names.set(c.id, c.name);
  return names;
}

/** A user message: its text, and the tool results it carries (collapsed, like reasoning). */
function userView(m, names = new Map()) {
  const results = m.tool_result || [];
  const onlyResults = results.length > 0 && !m.content;
  const d = el("div", "msg user" + (results.length ? " has-results" : ""));
  if (m.id) d.dataset.id = m.id;
  d.setAttribute("aria-label", onlyResults ? (results.length === 1 ? "Tool result" : "Tool results") : "You said");
  d.setAttribute("role", "article");
  for (const r of results) d.append(toolResultView(r, names.get(r.tool_use_id)));
  if (m.content || !results.length) d.append(el("div", "body", m.content));
  const meta = el("div", "meta");
  branchArrows(meta, m);
  if (!onlyResults) {
    meta.append(copyButton(() => m.content, "Copy message"));
    if (state.features.edit && m.id && "parent_id" in m && !results.length) meta.append(button("Edit", "edit", () => startEdit(m, d), "Edit message"));
  }
  if (meta.childElementCount) d.append(meta);
  return d;
}

/** ‹ 2/3 › on a message that has siblings (when the API reports branches). */
function branchArrows(meta, m) {
  if (!state.features.branch || !(m.sibling_count > 1) || !Array.isArray(m.sibling_ids)) return;
  const box = el("span", "branches");
  const index = m.sibling_index ?? m.sibling_ids.indexOf(m.id);
  const go = (delta) => switchBranch(m.sibling_ids[index + delta]);
  const prev = button("‹", "prev", () => go(-1), "Previous version");
  prev.disabled = index <= 0;
  const next = button("›", "next", () => go(1), "Next version");
  next.disabled = index >= m.sibling_count - 1;
  box.append(prev, el("span", null, `${index + 1}/${m.sibling_count}`), next);
  meta.append(box);
}

async function switchBranch(messageId) {
  if (!messageId || state.streaming) return;
  try {
    await api("POST", `/conversations/${state.current}/branch`, { message_id: messageId });
    await openConversation(state.current);
  } catch (e) {
    hint(humanError(e));
  }
}

/** Edits a message where it is, in its own box: the composer and its draft are left alone. */
function startEdit(m, d) {
  if (state.streaming) return hint("A reply is still being written: wait for it or press Stop.");
  if (state.editing) state.editing.close();
  const body = d.querySelector(".body");
  const meta = d.querySelector(".meta");
  const form = el("form", "edit-form");
  form.setAttribute("aria-label", "Edit message");
  const box = el("textarea");
  box.value = m.content;
  box.setAttribute("aria-label", "Edited message");
  box.rows = Math.min(10, m.content.split("\n").length + 1);
  const row = el("div", "row");
  const sendEdit = el("button", "primary", "Send edit");
  sendEdit.type = "submit";
  row.append(sendEdit, button("Cancel", "", () => close()));
  form.append(box, row);
  body.hidden = meta.hidden = true;
  d.classList.add("editing");
  d.append(form);
  const close = () => {
    form.remove();
    body.hidden = meta.hidden = false;
    d.classList.remove("editing");
    if (state.editing && state.editing.message === m) state.editing = null;
  };
  state.editing = { message: m, close };
  form.onsubmit = (e) => {
    e.preventDefault();
    if (!box.value.trim()) return;
    const text = box.value;
    close();
    submit(text, { parent_id: m.parent_id }, { replaceFrom: d });
  };
  box.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      close();
      d.querySelector(".edit")?.focus();
    }
  });
  box.focus();
}

/** The reasoning time of replies this browser watched, by id: the API stores the text, not the time. */
const thoughtTimes = {
  get: (id) => (saved.get("thought") || {})[id],
  set(id, ms) {
    const all = saved.get("thought") || {};
    all[id] = ms;
    const ids = Object.keys(all);
    for (const old of ids.slice(0, Math.max(0, ids.length - 200))) delete all[old];
    saved.set("thought", all);
  },
};

/** One assistant message on screen: reasoning (collapsed), text, tool calls (collapsed), and a usage line once it ends. */
class ReplyView {
  constructor(m = {}) {
    this.root = el("div", "msg assistant");
    this.root.setAttribute("role", "article");
    this.root.setAttribute("aria-label", "Assistant replied");
    this.thinking = el("details", "thinking");
    this.thinking.hidden = true;
    this.summary = el("summary", null, "Thinking…");
    this.thoughts = el("div", "thoughts");
    this.thinking.append(this.summary, this.thoughts);
    this.body = el("div", "body");
    this.md = new MarkdownView(this.body);
    this.calls = el("div", "tool-calls");
    /** The ToolCallView of each tool_use block, by its index in the stream. */
    this.callViews = new Map();
    this.meta = el("div", "meta");
    this.root.append(this.thinking, this.body, this.calls, this.meta);
    this.message = { ...m };
    this.set(m);
  }

  /** The reply's calls so far, as tool_use blocks. */
  get toolUse() {
    return [...this.callViews.values()].map((v) => v.call);
  }

  /** Shows `calls` (tool_use blocks), replacing any shown. */
  setCalls(calls) {
    this.calls.replaceChildren();
    this.callViews.clear();
    this.root.classList.remove("has-tools");
    (calls || []).forEach((c, i) => this.addCall(i, c));
  }

  addCall(index, call) {
    const v = new ToolCallView(call);
    this.callViews.set(index, v);
    this.calls.append(v.root);
    this.root.classList.add("has-tools");
    return v;
  }

  get text() {
    return this.md.text;
  }

  /** Shows a stored (or partly streamed) message. */
  set(m) {
    this.message = { ...this.message, ...m };
    if (m.id) this.root.dataset.id = m.id;
    this.md.set(m.content || "");
    this.setCalls(m.tool_use);
    const reasoning = m.reasoning || "";
    this.thoughts.textContent = reasoning;
    this.thinking.hidden = !reasoning;
    const thoughtMs = (m.metadata && m.metadata.reasoning_ms) ?? (m.id && thoughtTimes.get(m.id));
    this.summary.textContent = thoughtMs != null ? `Thought for ${seconds(thoughtMs)}` : "Thoughts";
    if (m.finish_reason) this.finish(m.finish_reason, { model: m.model, input: m.input_tokens, output: m.token_count, ttft: m.ttft_ms, total: m.latency_ms });
    else if (m.role) this.root.classList.add("streaming");
  }

  startThinking(since = Date.now()) {
    this.thinking.hidden = false;
    this.thinkingSince = since;
    this.summary.textContent = "Thinking…";
  }
  addThinking(text) {
    this.thinking.hidden = false;
    this.thoughts.textContent += text;
  }
  endThinking() {
    if (this.thinkingSince != null) {
      const ms = Date.now() - this.thinkingSince;
      this.summary.textContent = `Thought for ${seconds(ms)}`;
      if (this.message.id) thoughtTimes.set(this.message.id, ms);
    } else this.summary.textContent = "Thoughts";
  }
  addText(text) {
    this.md.append(text);
  }
  startCall(index, id, name) {
    this.addCall(index, { id, name }).begin();
  }
  addCallInput(index, text) {
    this.callViews.get(index)?.addInput(text);
  }
  endCall(index) {
    this.callViews.get(index)?.end();
    this.message.tool_use = this.toolUse;
  }

  /** Replaces the meta line with the reply's usage: model, tokens in and out, first-token and total time. */
  finish(reason, u) {
    if (this.root.classList.contains("streaming")) this.md.set(this.md.text);
    this.root.classList.remove("streaming");
    this.meta.replaceChildren();
    const usage = el("span", "usage");
    const parts = [];
    if (u.model) parts.push(u.model);
    if (u.input != null) parts.push(`${u.input} in`);
    if (u.output != null) parts.push(`${u.output} out`);
    parts.push(`first token ${seconds(u.ttft)}`, `total ${seconds(u.total)}`);
    usage.textContent = parts.join(" · ");
    if (reason === "cancelled") this.meta.append(el("span", "stopped", "Stopped"));
    if (reason === "max_tokens") this.meta.append(el("span", "stopped", "Cut at max tokens"));
    if (reason === "error") {
      this.root.classList.add("failed");
      const e = this.message.metadata && this.message.metadata.error;
      this.meta.append(el("span", "error", e ? `The reply failed: ${e.message}` : "The reply failed."));
    }
    this.meta.append(usage);
    branchArrows(this.meta, this.message);
    // A reply that only called tools has no text to copy.
    if (this.md.text || !this.callViews.size) this.meta.append(copyButton(() => this.md.text, "Copy reply"));
    if (state.features.regenerate && this.message.id) {
      this.meta.append(button("↻ Regenerate", "regenerate", () => regenerate(this.message.id), "Regenerate reply"));
    }
  }

  fail(message) {
    this.root.classList.remove("streaming");
    this.root.classList.add("failed");
    this.meta.replaceChildren(el("span", "error", message));
  }
}

// ---------------------------------------------------------------- streaming

function setStreaming(on) {
  $("send").disabled = on;
  $("stop").hidden = !on;
  $("stop").disabled = false;
}

/** Splits a Server-Sent Events body into events ({ id, event, data }). */
async function* sse(res) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    buf = buf.replace(/\r\n?/g, "\n");
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev = { id: undefined, event: "message", data: "" };
      const data = [];
      for (const line of block.split("\n")) {
        const c = line.indexOf(":");
        if (c === 0) continue;
        const field = c < 0 ? line : line.slice(0, c);
        const v = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
        if (field === "id") ev.id = v;
        else if (field === "event") ev.event = v;
        else if (field === "data") data.push(v);
      }
      if (!data.length) continue;
      try {
        ev.data = JSON.parse(data.join("\n"));
      } catch {
        continue;
      }
      yield ev;
    }
  }
}

/**
 * Reads a reply stream into `s.view`. `open(lastEventId)` makes the request; a dropped connection is
 * resumed from the last event id when the API can resume, so the text is neither lost nor repeated.
 * Returns how the reply ended (null when the stream closed before it did).
 */
async function readReply(s, open) {
  const view = s.view;
  const started = performance.now();
  let firstToken = null;
  let reason = null;
  let output = null;
  let input = null;
  let model = null;
  let lastEventId = s.lastEventId;
  const blocks = {};
  const remember = () =>
    s.replyId &&
    saved.set("resume", {
      replyId: s.replyId,
      lastEventId,
      text: view.text,
      thinking: view.thoughts.textContent,
      thinkingSince: view.thinkingSince ?? null,
      calls: [...view.callViews].map(([index, v]) => ({ index, id: v.call.id, name: v.call.name, partial: v.partial, done: v.done })),
    });

  for (let attempt = 0; attempt < 4; attempt++) {
    let res;
    try {
      res = await open(lastEventId);
    } catch (e) {
      if (s.controller.signal.aborted) break;
      throw e;
    }
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      // Refused before it began: the caller shows why. A refused resume just ends the attempt.
      if (attempt === 0) throw new ApiError(res.status, body);
      break;
    }
    try {
      for await (const ev of sse(res)) {
        if (ev.id !== undefined) lastEventId = ev.id;
        const d = ev.data;
        switch (ev.event) {
          case "message_start":
            s.replyId = d.message.id;
            view.message.id = d.message.id;
            view.root.dataset.id = d.message.id;
            model = d.message.model;
            input = d.message.usage && d.message.usage.input_tokens;
            break;
          case "content_block_start":
            blocks[d.index] = d.content_block.type;
            // A reattached reply that was thinking before the reload keeps its start time.
            if (d.content_block.type === "thinking") view.startThinking(s.thinkingSince ?? Date.now());
            if (d.content_block.type === "tool_use") view.startCall(d.index, d.content_block.id, d.content_block.name);
            break;
          case "content_block_delta":
            firstToken ??= performance.now() - started;
            if (d.delta.type === "thinking_delta") view.addThinking(d.delta.thinking);
            else if (d.delta.type === "text_delta") view.addText(d.delta.text);
            else if (d.delta.type === "input_json_delta") view.addCallInput(d.index, d.delta.partial_json);
            scrollToEnd();
            break;
          case "content_block_stop":
            if (blocks[d.index] === "thinking") view.endThinking();
            // A reattached reply may have begun the call before the events replayed here.
            else if (view.callViews.has(d.index)) view.endCall(d.index);
            break;
          case "message_delta":
            reason = d.delta.stop_reason;
            output = d.usage && d.usage.output_tokens;
            if (d.usage && d.usage.input_tokens != null) input = d.usage.input_tokens;
            break;
          case "error":
            reason = "error";
            view.fail(`The reply failed: ${d.error.message}`);
            break;
        }
        remember();
      }
    } catch {
      if (s.controller.signal.aborted) break;
      // A network drop: fall through and resume if we can.
    }
    if (reason || s.controller.signal.aborted || !state.features.resume || !s.replyId) break;
    open = (after) => resumeRequest(s, after);
  }
  saved.set("resume", null);
  const total = performance.now() - started;
  if (reason === "error") {
    announce("The reply failed.");
    return reason;
  }
  if (!reason && s.controller.signal.aborted) reason = "cancelled";
  if (!reason) {
    view.fail("The connection closed before the reply ended.");
    return null;
  }
  view.message.model = model ?? view.message.model;
  view.message.finish_reason = reason;
  view.finish(reason, { model: view.message.model, input, output, ttft: firstToken, total });
  if (reason === "cancelled") {
    if (s.stopRequested) hint("Stopped: the reply keeps what was written before Stop.");
    announce("Reply stopped.");
  } else if (reason === "tool_use" && !view.text.trim()) announce(`The reply called ${view.toolUse.map((c) => c.name).join(", ")}.`);
  else announce("Reply: " + view.text.slice(0, 1000));
  return reason;
}

function resumeRequest(s, lastEventId) {
  const headers = lastEventId ? { "last-event-id": String(lastEventId) } : {};
  return request("GET", `/conversations/${s.conversationId}/messages/${s.replyId}/stream`, { headers, signal: s.controller.signal });
}

/** Runs a reply stream with Send disabled and Stop shown; returns how it ended (null: it did not). */
async function runReply(s, open) {
  state.streaming = s;
  setStreaming(true);
  try {
    return await readReply(s, open);
  } catch (e) {
    if (!(e instanceof ApiError)) {
      s.view.fail(humanError(e));
      return null;
    }
    throw e;
  } finally {
    if (state.streaming === s) {
      state.streaming = null;
      setStreaming(false);
    }
    loadConversations();
  }
}

/** Where the composer's text goes: the open conversation, made first when there is none. */
async function send() {
  clearFieldErrors($("composer"));
  hint("");
  const text = $("content").value;
  if (!state.session) {
    if (narrow()) sidebar(true);
    return hint("Sign in first: register or log in" + (narrow() ? " in the menu." : " on the left."));
  }
  if (!text.trim()) return hint("Type a message first.");
  if (text.length > state.maxChars) {
    const over = text.length - state.maxChars;
    return hint(`That message is ${over.toLocaleString("en")} ${over === 1 ? "character" : "characters"} too long: the limit is ${state.maxChars.toLocaleString("en")}.`);
  }
  if (state.streaming) return hint("A reply is still being written: wait for it or press Stop.");
  // The API takes no other message until every call of the last reply has its result.
  const waiting = pending && pending.root.isConnected && pending.root.querySelector(".tool-answer textarea");
  if (waiting) {
    waiting.focus();
    return hint("The reply is waiting for tool results: answer them above first.");
  }
  await submit(text, {}, { fromComposer: true });
}

/**
 * Sends `text` (with `extra` fields such as parent_id) and streams the reply. From the composer, its
 * box is emptied at once and given back if the send is refused; an edit replaces the messages from
 * the edited one down. `results` (tool_result blocks) make the content a list of blocks: they answer
 * the calls of the reply before. `round` counts the demo tool's answers in a row.
 */
async function submit(text, extra, { fromComposer = false, replaceFrom = null, results = null, round = 0 } = {}) {
  // Sent right after New, while the new conversation is still being made: it belongs there, not in the
  // conversation on screen when New was pressed.
  if (state.opening) await state.opening;
  if (state.streaming) return hint("A reply is still being written: wait for it or press Stop.");
  if (!state.current) {
    try {
      const draft = prefsFor(null);
      const made = {};
      if (draft.system_prompt) made.system_prompt = draft.system_prompt;
      if (draft.title) made.title = draft.title;
      const c = await api("POST", "/conversations", made);
      prefsFor(c.id, { temperature: draft.temperature, max_tokens: draft.max_tokens });
      prefsFor(null, {});
      $("convs").querySelector(".no-match")?.remove();
      $("convs").prepend(conversationButton(c));
      await openConversation(c.id, c);
    } catch (e) {
      return hint(humanError(e));
    }
  }
  const conversationId = state.current;
  const content = results ? [...results, ...(text ? [{ type: "text", text }] : [])] : text;
  const body = { content, ...extra };
  if (state.features.tools && demoTool.on) body.tools = [DEMO_TOOL];
  const model = $("model");
  if (!model.hidden && model.value && model.value !== state.conversation.model) body.model = model.value;
  if (!$("effort").hidden && $("effort").value) body.reasoning_effort = $("effort").value;
  const prefs = prefsFor(conversationId);
  if (prefs.temperature != null) body.temperature = prefs.temperature;
  if (prefs.max_tokens != null) body.max_tokens = prefs.max_tokens;

  document.querySelector("#log .empty")?.remove();
  const waiting = pending;
  pending = null;
  waiting?.root.querySelector(".tool-answer")?.remove();
  const removed = [];
  if (replaceFrom) {
    for (let n = replaceFrom; n; n = n.nextElementSibling) removed.push(n);
    for (const n of removed) n.remove();
  }
  const userMessage = { role: "user", content: text };
  if (results) userMessage.tool_result = results;
  const userEl = userView(userMessage, toolNames(state.messages));
  const view = new ReplyView({ role: "assistant" });
  $("log").append(userEl, view.root);
  scrollToEnd(true);
  if (fromComposer) {
    $("content").value = "";
    autosize();
    updateCounter();
  }

  const s = { conversationId, replyId: null, controller: new AbortController(), view };
  try {
    const reason = await runReply(s, () =>
      request("POST", `/conversations/${conversationId}/messages/stream`, { body, signal: s.controller.signal }),
    );
    state.messages.push(userMessage, view.message);
    if (reason === "tool_use" && state.current === conversationId && autoAnswerable(view.message, round)) {
      // The stored ids are re-read once the loop ends, after the reply that answers from the results.
      // Should that send be refused, the calls are offered to answer by hand.
      pending = view;
      return submit("", {}, { results: view.message.tool_use.map(answerDemoCall), round: round + 1 });
    }
    // Editing and branches need the stored ids; re-read the conversation once the reply has ended.
    if (reason && (state.features.edit || state.features.branch) && state.current === conversationId) await reopenKeepingHint(conversationId);
    else if (reason === "tool_use" && state.current === conversationId) offerAnswers(view);
  } catch (e) {
    userEl.remove();
    view.root.remove();
    $("log").append(...removed);
    if (!$("log").childElementCount) renderMessages();
    else if (waiting && waiting.root.isConnected) offerAnswers(waiting);
    if (fromComposer && !$("content").value) {
      $("content").value = text;
      autosize();
      updateCounter();
    }
    if (e instanceof ApiError && e.status === 409 && e.replyId && state.features.resume) {
      await openConversation(conversationId);
      return hint("A reply is already being written in this conversation — following it");
    }
    showError(e, hint, $("composer"));
  }
}

/** How many times in a row the demo tool is answered without asking, so a model that keeps calling it stops. */
const MAX_AUTO_ROUNDS = 5;

/** Whether the page answers a reply's calls by itself: they are all the demo tool's, and it is on. */
function autoAnswerable(m, round) {
  const calls = m.tool_use || [];
  return state.features.toolResults && demoTool.on && round < MAX_AUTO_ROUNDS && calls.length > 0 && calls.every((c) => c.name === DEMO_TOOL.name);
}

const answerDemoCall = (call) => ({ type: "tool_result", tool_use_id: call.id, ...runDemoTool(call.input) });

/** Under the last reply, when it ended calling tools: the form that answers them. */
function offerAnswers(view) {
  view.root.querySelector(".tool-answer, .tool-unanswerable")?.remove();
  const calls = view.message.tool_use || [];
  if (!calls.length || state.streaming) return;
  if (!state.features.toolResults) {
    view.meta.before(el("p", "note tool-unanswerable", "This API does not take tool results, so these calls cannot be answered here."));
    return;
  }
  const form = answerForm(calls, (results) => {
    if (state.streaming) return hint("A reply is still being written: wait for it or press Stop.");
    submit("", {}, { results });
  });
  view.meta.before(form);
  pending = view;
}

/** The reply whose calls wait for an answer (its form is taken away while a send is under way). */
let pending = null;

/** Re-reads the open conversation (its stored figures and ids) without losing what the hint says. */
async function reopenKeepingHint(id) {
  const said = $("hint").textContent;
  await openConversation(id);
  if (said) hint(said);
}

/** Reattaches to a reply that is still streaming (after a reload, or when opening its conversation). */
function reattach(m) {
  const v = replyViews.get(m.id);
  if (!v) return;
  const s = { conversationId: state.current, replyId: m.id, controller: new AbortController(), view: v, lastEventId: undefined };
  if (!state.features.resume) return pollUntilDone(m.id);
  // Continue from what this tab last saw; otherwise the server replays the reply from its first event.
  const seen = saved.get("resume");
  if (seen && seen.replyId === m.id) {
    v.md.set("");
    v.md.append(seen.text || "");
    v.thoughts.textContent = seen.thinking || "";
    v.thinking.hidden = !seen.thinking;
    v.setCalls([]);
    for (const c of seen.calls || []) {
      const call = v.addCall(c.index, { id: c.id, name: c.name });
      call.begin();
      call.addInput(c.partial);
      if (c.done) call.end();
    }
    s.lastEventId = seen.lastEventId;
    if (seen.thinkingSince != null) {
      s.thinkingSince = seen.thinkingSince;
      v.thinkingSince = seen.thinkingSince;
    }
  } else {
    v.md.set("");
    v.thoughts.textContent = "";
    v.setCalls([]);
  }
  runReply(s, (after) => resumeRequest(s, after))
    .then((reason) => {
      // The figures timed here are of the reattached part only: once the reply has ended, the stored ones are shown.
      if (reason && state.current === s.conversationId && !state.streaming) return reopenKeepingHint(s.conversationId);
    })
    .catch((e) => {
      if (e instanceof ApiError) pollUntilDone(m.id);
      else throw e;
    });
}

/** Without a resumable stream, the stored reply is re-read until it has ended. */
async function pollUntilDone(replyId) {
  const conversationId = state.current;
  for (let i = 0; i < 120 && state.current === conversationId; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const c = await api("GET", "/conversations/" + conversationId).catch(() => null);
    const m = c && c.messages.find((x) => x.id === replyId);
    if (!m || state.current !== conversationId) return;
    if (m.finish_reason !== null) return openConversation(conversationId);
    const v = replyViews.get(replyId);
    if (v) v.md.set(m.content);
  }
}

/** Stops the reply being read: asks the API to cancel it, and says what came of that. */
async function stop() {
  const s = state.streaming;
  if (!s) return;
  $("stop").disabled = true;
  if (s.replyId && state.features.cancel) {
    hint("Stopping the reply…");
    try {
      const res = await request("POST", `/conversations/${s.conversationId}/messages/${s.replyId}/cancel`);
      const body = await res.json().catch(() => null);
      // Accepted: the stream itself ends with stop_reason "cancelled".
      if (res.status === 202) {
        s.stopRequested = true;
        return;
      }
      if (res.status === 409) return hint("The reply had already ended: there was nothing left to stop.");
      hint(humanError(new ApiError(res.status, body)));
    } catch {
      // Unreachable: leaving the stream below still stops it on an API without durable replies.
    }
  }
  // Without the cancel route, leaving the stream is what stops a reply.
  s.stopRequested = true;
  s.controller.abort();
}

async function regenerate(messageId) {
  if (state.streaming) return hint("A reply is still being written: wait for it or press Stop.");
  const old = $("log").querySelector(`.msg.assistant[data-id="${CSS.escape(messageId)}"]`);
  const view = new ReplyView({ role: "assistant" });
  if (old) old.replaceWith(view.root);
  else $("log").append(view.root);
  const s = { conversationId: state.current, replyId: null, controller: new AbortController(), view };
  const body = {};
  if (state.features.tools && demoTool.on) body.tools = [DEMO_TOOL];
  const prefs = prefsFor(s.conversationId);
  if (prefs.temperature != null) body.temperature = prefs.temperature;
  if (prefs.max_tokens != null) body.max_tokens = prefs.max_tokens;
  try {
    await runReply(s, () =>
      request("POST", `/conversations/${s.conversationId}/messages/${messageId}/regenerate`, { body, signal: s.controller.signal }),
    );
    await reopenKeepingHint(s.conversationId);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.status === 404 && e.type === "not_found_error" && /route/i.test(e.message)) state.features.regenerate = false;
    await openConversation(s.conversationId);
    hint(humanError(e));
  }
}

// ---------------------------------------------------------------- models

async function loadModels() {
  if (!state.features.models) return;
  try {
    const r = await (await fetch(API + "/models")).json();
    state.models = r.data || [];
  } catch {
    state.models = [];
  }
  const select = $("model");
  select.replaceChildren(...state.models.map((m) => new Option(m.id, m.id)));
  select.hidden = state.models.length < 2;
  syncModel();
}

function syncModel() {
  const select = $("model");
  const wanted = (state.conversation && state.conversation.model) || (state.models.find((m) => m.default) || {}).id;
  if (wanted && [...select.options].some((o) => o.value === wanted)) select.value = wanted;
  syncEffort();
}

function syncEffort() {
  const m = state.models.find((x) => x.id === $("model").value);
  const efforts = (m && m.reasoning && m.reasoning_efforts) || [];
  const select = $("effort");
  select.replaceChildren(new Option("Default effort", ""), ...efforts.map((e) => new Option(`${capitalise(e)} effort`, e)));
  select.hidden = efforts.length === 0;
}

// ---------------------------------------------------------------- wiring

$("auth").addEventListener("submit", (e) => {
  e.preventDefault();
  signIn("login");
});
$("register").onclick = () => signIn("register");
$("logout").onclick = () => logout();
$("new").onclick = () => newConversation();
$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  send();
});
$("content").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  }
});
$("content").addEventListener("input", () => {
  autosize();
  updateCounter();
  if ($("content").value.trim() && !state.streaming) hint("");
});
$("stop").onclick = () => stop();
$("demo-tool").checked = demoTool.on;
$("demo-tool").onchange = () => (demoTool.on = $("demo-tool").checked);
// Escape stops a reply from anywhere on the page, unless a dialog or an edit box takes it first.
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || e.defaultPrevented || !state.streaming || document.querySelector("dialog[open]")) return;
  if (narrow() && document.body.classList.contains("sidebar-open")) return sidebar(false);
  e.preventDefault();
  stop();
});
$("menu").onclick = () => {
  sidebar(true);
  (state.session ? $("new") : $("email")).focus();
};
$("close-sidebar").onclick = () => {
  sidebar(false);
  $("menu").focus();
};
$("scrim").onclick = () => sidebar(false);
$("model").onchange = () => syncEffort();
let searchTimer;
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(loadConversations, 250);
});
wireTheme();
wireDialogs({
  hint,
  forgetSession,
  signedOut,
  reload: async (deleted) => {
    if (deleted) {
      state.current = null;
      state.conversation = null;
      state.messages = [];
      saved.set("current", null);
      saved.set("last:" + state.session.email, null);
      renderMessages();
    } else if (state.current) await reopenKeepingHint(state.current);
    await loadConversations();
  },
});
$("conv-settings").onclick = () => openConversationSettings();
$("open-settings").onclick = () => {
  if (narrow()) sidebar(false);
  openSettings();
};

(async function start() {
  renderAccount();
  await detectFeatures();
  loadModels();
  if (!state.session) {
    renderMessages();
    if (narrow()) sidebar(true);
    return;
  }
  // The saved token may have expired: /auth/me refreshes it, or signs out.
  const me = await api("GET", "/auth/me").catch(() => null);
  if (!me) {
    forgetSession();
    if (narrow()) sidebar(true);
    return;
  }
  setSession({ ...state.session, email: me.email });
  renderAccount();
  await afterSignIn();
})();
