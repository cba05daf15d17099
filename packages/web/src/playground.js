// The playground: a small chat app that uses the API exactly as any client would (bearer tokens, JSON,
// Server-Sent Events). Plain JavaScript, no build step, nothing from a CDN. Features newer than the API
// it talks to (cancel, resume, regenerate, branches, search, models) are switched on from the API's own
// OpenAPI document, so the page works against older and newer servers alike.
"use strict";

const API = "/api/v1";
const $ = (id) => document.getElementById(id);

// Tokens and the open conversation survive a reload; the reply being read also survives it, so a
// reload can resume from the last event seen instead of replaying the whole reply.
const saved = {
  get(key) {
    try {
      return JSON.parse(localStorage.getItem("playground." + key) ?? "null");
    } catch {
      return null;
    }
  },
  set(key, value) {
    if (value == null) localStorage.removeItem("playground." + key);
    else localStorage.setItem("playground." + key, JSON.stringify(value));
  },
};

const state = {
  /** { access_token, refresh_token?, email } */
  session: saved.get("session"),
  current: null,
  conversation: null,
  messages: [],
  /** The reply being read: { conversationId, replyId, controller, view, stopped } */
  streaming: null,
  /** The user message being edited (send then starts a branch from its parent). */
  editing: null,
  models: [],
  features: { cancel: false, resume: false, regenerate: false, branch: false, edit: false, search: false, models: false },
};

class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.type = e.type;
    this.fields = e.fields || [];
    this.replyId = e.reply_id;
  }
}

// ---------------------------------------------------------------- HTTP

let refreshing = null;

/** One refresh at a time, shared by every request that met a 401. */
function refreshTokens() {
  const refreshToken = state.session && state.session.refresh_token;
  if (!refreshToken) return Promise.resolve(false);
  refreshing ??= fetch(API + "/auth/refresh", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token: refreshToken }),
  })
    .then(async (res) => {
      if (!res.ok) return false;
      const t = await res.json();
      setSession({ ...state.session, access_token: t.access_token, refresh_token: t.refresh_token ?? refreshToken });
      return true;
    })
    .catch(() => false)
    .finally(() => (refreshing = null));
  return refreshing;
}

/** A request with the access token; on a 401 it refreshes the token (when it holds a refresh token) and retries once. */
async function request(method, path, { body, signal, headers = {} } = {}, retried = false) {
  const h = { ...headers };
  if (state.session) h.authorization = "Bearer " + state.session.access_token;
  if (body !== undefined) h["content-type"] = "application/json";
  const res = await fetch(API + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal });
  if (res.status === 401 && state.session && !/^\/auth\/(login|register|refresh|logout)$/.test(path)) {
    if (!retried && (await refreshTokens())) return request(method, path, { body, signal, headers }, true);
    forgetSession();
    hint("Your session has ended: sign in again.");
  }
  return res;
}

async function api(method, path, body) {
  const res = await request(method, path, { body });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Which optional routes the server has, from its OpenAPI document. */
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
    const list = doc.paths[API + "/conversations"];
    f.search = Boolean(list && list.get && (list.get.parameters || []).some((p) => p.name === "q"));
    const send = doc.paths[API + "/conversations/{id}/messages/stream"];
    let schema = send && send.post && send.post.requestBody && send.post.requestBody.content["application/json"].schema;
    if (schema && schema.$ref) schema = doc.components.schemas[schema.$ref.split("/").pop()];
    f.edit = Boolean(schema && schema.properties && schema.properties.parent_id);
  } catch {
    // No document: the page still does everything the base API offers.
  }
  $("search").hidden = !state.features.search || !state.session;
}

// ---------------------------------------------------------------- small UI helpers

function hint(text) {
  $("hint").textContent = text || "";
}

function clearFieldErrors() {
  for (const p of document.querySelectorAll(".field-error")) p.textContent = "";
  for (const i of document.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
  $("auth-error").textContent = "";
}

/** Puts each of a 422's `error.fields` under its input; what has no input goes to `fallback`. */
function showError(e, fallback) {
  clearFieldErrors();
  const loose = [];
  for (const f of e.fields || []) {
    const slot = document.querySelector(`.field-error[data-field="${CSS.escape(f.path)}"]`);
    const input = $(f.path.split(".").pop());
    // Only under an input that is on screen (the sign-in form is hidden once signed in).
    if (slot && input && input.getClientRects().length) {
      slot.textContent = capitalise(f.message);
      input.setAttribute("aria-invalid", "true");
    } else loose.push(`${f.path.replace(/^body\./, "")}: ${f.message}`);
  }
  if (loose.length || !(e.fields || []).length) fallback(loose.length ? loose.join("; ") : e.message);
}

const capitalise = (s) => s.charAt(0).toUpperCase() + s.slice(1);

const seconds = (ms) => (ms == null ? "–" : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text != null) e.textContent = text;
  return e;
}

const narrow = () => window.matchMedia("(max-width: 760px)").matches;
function sidebar(open) {
  document.body.classList.toggle("sidebar-open", open);
}

function scrollToEnd() {
  const log = $("log");
  log.scrollTop = log.scrollHeight;
}

function autosize() {
  const t = $("content");
  t.style.height = "auto";
  t.style.height = Math.min(t.scrollHeight + 2, window.innerHeight * 0.4) + "px";
}

// ---------------------------------------------------------------- session

function setSession(session) {
  state.session = session;
  saved.set("session", session);
}

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

function renderAccount() {
  const signedIn = Boolean(state.session);
  $("auth").hidden = signedIn;
  $("account").hidden = !signedIn;
  $("search").hidden = !signedIn || !state.features.search;
  $("who").textContent = signedIn ? state.session.email : "";
  $("who").title = signedIn ? state.session.email : "";
}

async function signIn(kind) {
  clearFieldErrors();
  hint("");
  const body = { email: $("email").value, password: $("password").value };
  try {
    const r = await api("POST", "/auth/" + kind, body);
    setSession({ access_token: r.access_token, refresh_token: r.refresh_token, email: r.user.email });
    $("password").value = "";
    renderAccount();
    if (narrow()) sidebar(false);
    await afterSignIn();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    showError(e, (text) => ($("auth-error").textContent = text));
  }
}

async function logout() {
  const refreshToken = state.session && state.session.refresh_token;
  if (refreshToken) {
    // Revokes the refresh token on the server; the short-lived access token simply expires.
    await request("POST", "/auth/logout", { body: { refresh_token: refreshToken } }).catch(() => {});
  }
  if (state.streaming) state.streaming.controller.abort();
  forgetSession();
  hint("");
}

async function afterSignIn() {
  await loadConversations();
  const last = saved.get("current");
  if (last) await openConversation(last);
  else renderMessages();
}

// ---------------------------------------------------------------- conversations

async function loadConversations() {
  if (!state.session) return;
  const q = $("search").value.trim();
  const query = q && state.features.search ? `&q=${encodeURIComponent(q)}` : "";
  try {
    const list = await api("GET", `/conversations?limit=50${query}`);
    renderConversations(list.data);
  } catch (e) {
    if (e instanceof ApiError) hint(e.message);
    else throw e;
  }
}

function renderConversations(list) {
  $("convs").replaceChildren(...list.map(conversationButton));
  // The API titles a new conversation once its first reply has ended (the stream closes after that),
  // and this list is re-read then: the open conversation's heading follows.
  const open = list.find((c) => c.id === state.current);
  if (open && state.conversation && state.conversation.id === open.id && open.title !== state.conversation.title) {
    state.conversation.title = open.title;
    $("title").textContent = open.title || "New conversation";
  }
}

function conversationButton(c) {
  const b = el("button", "conv" + (c.id === state.current ? " active" : ""), c.title || "New conversation");
  b.type = "button";
  b.dataset.id = c.id;
  b.title = c.title || "New conversation";
  b.onclick = () => {
    if (narrow()) sidebar(false);
    openConversation(c.id);
  };
  return b;
}

function markActive() {
  for (const b of $("convs").children) b.classList.toggle("active", b.dataset.id === state.current);
}

async function newConversation() {
  if (!state.session) return hint("Sign in first: register or log in.");
  if (narrow()) sidebar(false);
  // An empty conversation is already a new one; don't pile up more.
  if (state.current && state.messages.length === 0 && !state.streaming) return $("content").focus();
  try {
    const c = await api("POST", "/conversations", {});
    $("convs").prepend(conversationButton(c));
    await openConversation(c.id, c);
    $("content").focus();
  } catch (e) {
    if (e instanceof ApiError) hint(e.message);
    else throw e;
  }
}

async function openConversation(id, known) {
  if (state.streaming && state.streaming.conversationId !== id) {
    // Leave the reply running on the server (or, on an API without durable replies, let it stop).
    state.streaming.controller.abort();
    state.streaming = null;
    setStreaming(false);
  }
  state.current = id;
  saved.set("current", id);
  state.editing = null;
  $("editing").hidden = true;
  markActive();
  hint("");
  try {
    const c = known ? { ...known, messages: [] } : await api("GET", "/conversations/" + id);
    state.conversation = c;
    state.messages = c.messages;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    state.current = null;
    saved.set("current", null);
    state.conversation = null;
    state.messages = [];
    if (e.status !== 404) hint(e.message);
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
  for (const m of state.messages) {
    if (m.role === "user") {
      log.append(userView(m));
      continue;
    }
    const view = new ReplyView(m);
    replyViews.set(m.id, view);
    log.append(view.root);
  }
  scrollToEnd();
}

function userView(m) {
  const d = el("div", "msg user");
  if (m.id) d.dataset.id = m.id;
  d.append(el("div", "body", m.content));
  const meta = el("div", "meta");
  branchArrows(meta, m);
  if (state.features.edit && m.id && "parent_id" in m) {
    const edit = el("button", "edit", "Edit");
    edit.type = "button";
    edit.title = "Edit and resend (keeps the original as a branch)";
    edit.onclick = () => startEdit(m);
    meta.append(edit);
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
  const prev = el("button", "prev", "‹");
  prev.type = "button";
  prev.disabled = index <= 0;
  prev.onclick = () => go(-1);
  const next = el("button", "next", "›");
  next.type = "button";
  next.disabled = index >= m.sibling_count - 1;
  next.onclick = () => go(1);
  box.append(prev, el("span", null, `${index + 1}/${m.sibling_count}`), next);
  meta.append(box);
}

async function switchBranch(messageId) {
  if (!messageId || state.streaming) return;
  try {
    await api("POST", `/conversations/${state.current}/branch`, { message_id: messageId });
    await openConversation(state.current);
  } catch (e) {
    if (e instanceof ApiError) hint(e.message);
    else throw e;
  }
}

function startEdit(m) {
  state.editing = m;
  $("editing").hidden = false;
  $("content").value = m.content;
  autosize();
  $("content").focus();
}

function cancelEdit() {
  state.editing = null;
  $("editing").hidden = true;
}

/** One assistant message on screen: reasoning (collapsed), text, and a usage line once it ends. */
class ReplyView {
  constructor(m = {}) {
    this.root = el("div", "msg assistant");
    this.thinking = el("details", "thinking");
    this.thinking.hidden = true;
    this.summary = el("summary", null, "Thinking…");
    this.thoughts = el("div", "thoughts");
    this.thinking.append(this.summary, this.thoughts);
    this.body = el("div", "body");
    this.meta = el("div", "meta");
    this.root.append(this.thinking, this.body, this.meta);
    this.message = { ...m };
    this.set(m);
  }

  /** Shows a stored (or partly streamed) message. */
  set(m) {
    this.message = { ...this.message, ...m };
    if (m.id) this.root.dataset.id = m.id;
    this.body.textContent = m.content || "";
    const reasoning = m.reasoning || "";
    this.thoughts.textContent = reasoning;
    this.thinking.hidden = !reasoning;
    const thoughtMs = m.metadata && m.metadata.reasoning_ms;
    this.summary.textContent = thoughtMs != null ? `Thought for ${seconds(thoughtMs)}` : "Thoughts";
    if (m.finish_reason) this.finish(m.finish_reason, { model: m.model, input: m.input_tokens, output: m.token_count, ttft: m.ttft_ms, total: m.latency_ms });
    else if (m.role) this.root.classList.add("streaming");
  }

  startThinking() {
    this.thinking.hidden = false;
    this.thinkingSince = performance.now();
    this.summary.textContent = "Thinking…";
  }
  addThinking(text) {
    this.thinking.hidden = false;
    this.thoughts.textContent += text;
  }
  endThinking() {
    if (this.thinkingSince != null) this.summary.textContent = `Thought for ${seconds(performance.now() - this.thinkingSince)}`;
    else this.summary.textContent = "Thoughts";
  }
  addText(text) {
    this.body.textContent += text;
  }

  /** Replaces the meta line with the reply's usage: model, tokens in and out, first-token and total time. */
  finish(reason, u) {
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
    if (reason === "max_tokens") this.meta.append(el("span", "stopped", "Cut at max_tokens"));
    if (reason === "error") this.root.classList.add("failed");
    this.meta.append(usage);
    branchArrows(this.meta, this.message);
    if (state.features.regenerate && this.message.id) {
      const again = el("button", "regenerate", "↻ Regenerate");
      again.type = "button";
      again.onclick = () => regenerate(this.message.id);
      this.meta.append(again);
    }
  }

  fail(message) {
    this.root.classList.remove("streaming");
    this.root.classList.add("failed");
    const note = el("span", "error", message);
    this.meta.replaceChildren(note);
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
 * Reads a reply stream into `view`. `open(lastEventId)` makes the request; a dropped connection is
 * resumed from the last event id when the API can resume, so the text is neither lost nor repeated.
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
    saved.set("resume", { replyId: s.replyId, lastEventId, text: view.body.textContent, thinking: view.thoughts.textContent });

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
            if (d.content_block.type === "thinking") view.startThinking();
            break;
          case "content_block_delta":
            firstToken ??= performance.now() - started;
            if (d.delta.type === "thinking_delta") view.addThinking(d.delta.thinking);
            else if (d.delta.type === "text_delta") view.addText(d.delta.text);
            scrollToEnd();
            break;
          case "content_block_stop":
            if (blocks[d.index] === "thinking") view.endThinking();
            break;
          case "message_delta":
            reason = d.delta.stop_reason;
            output = d.usage && d.usage.output_tokens;
            if (d.usage && d.usage.input_tokens != null) input = d.usage.input_tokens;
            break;
          case "error":
            reason = "error";
            view.fail(`${d.error.type}: ${d.error.message}`);
            break;
        }
        remember();
      }
    } catch (e) {
      if (s.controller.signal.aborted) break;
      // A network drop: fall through and resume if we can.
    }
    if (reason || s.controller.signal.aborted || !state.features.resume || !s.replyId) break;
    open = (after) => resumeRequest(s, after);
  }
  saved.set("resume", null);
  const total = performance.now() - started;
  if (reason === "error") return;
  if (!reason && s.controller.signal.aborted) reason = "cancelled";
  if (!reason) return view.fail("The connection closed before the reply ended.");
  view.message.model = model ?? view.message.model;
  view.finish(reason, { model: view.message.model, input, output, ttft: firstToken, total });
}

function resumeRequest(s, lastEventId) {
  const headers = lastEventId ? { "last-event-id": String(lastEventId) } : {};
  return request("GET", `/conversations/${s.conversationId}/messages/${s.replyId}/stream`, { headers, signal: s.controller.signal });
}

/** Runs a reply stream with Send disabled and Stop shown. */
async function runReply(s, open) {
  state.streaming = s;
  setStreaming(true);
  try {
    await readReply(s, open);
    return true;
  } catch (e) {
    if (!(e instanceof ApiError)) {
      s.view.fail("Network error: " + e.message);
      return false;
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

async function send() {
  clearFieldErrors();
  hint("");
  const text = $("content").value;
  if (!state.session) {
    if (narrow()) sidebar(true);
    return hint("Sign in first: register or log in" + (narrow() ? " in the menu." : " on the left."));
  }
  if (!text.trim()) return hint("Type a message first.");
  if (state.streaming) return hint("A reply is still being written: wait for it or press Stop.");

  if (!state.current) {
    try {
      const c = await api("POST", "/conversations", {});
      $("convs").prepend(conversationButton(c));
      await openConversation(c.id, c);
    } catch (e) {
      if (e instanceof ApiError) return hint(e.message);
      throw e;
    }
  }
  const conversationId = state.current;
  const body = { content: text };
  const model = $("model");
  if (!model.hidden && model.value && model.value !== state.conversation.model) body.model = model.value;
  if (!$("effort").hidden && $("effort").value) body.reasoning_effort = $("effort").value;
  const editing = state.editing;
  if (editing) body.parent_id = editing.parent_id;

  document.querySelector("#log .empty")?.remove();
  const userMessage = { role: "user", content: text };
  const userEl = userView(userMessage);
  const view = new ReplyView({ role: "assistant" });
  $("log").append(userEl, view.root);
  scrollToEnd();
  $("content").value = "";
  autosize();
  cancelEdit();

  const s = { conversationId, replyId: null, controller: new AbortController(), view };
  try {
    await runReply(s, () =>
      request("POST", `/conversations/${conversationId}/messages/stream`, { body, signal: s.controller.signal }),
    );
    state.messages.push(userMessage, view.message);
    // Editing and branches need the stored ids; re-read the conversation once the reply has ended.
    if ((state.features.edit || state.features.branch) && state.current === conversationId) await openConversation(conversationId);
  } catch (e) {
    userEl.remove();
    view.root.remove();
    if (!state.messages.length) renderMessages();
    $("content").value = text;
    autosize();
    if (e.status === 409 && e.replyId && state.features.resume) {
      hint("A reply is still being written in this conversation: showing it.");
      return openConversation(conversationId);
    }
    showError(e, hint);
  }
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
    v.body.textContent = seen.text || "";
    v.thoughts.textContent = seen.thinking || "";
    v.thinking.hidden = !seen.thinking;
    s.lastEventId = seen.lastEventId;
  } else {
    v.body.textContent = "";
    v.thoughts.textContent = "";
  }
  runReply(s, (after) => resumeRequest(s, after)).catch((e) => {
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
    const shown = $("log").querySelector(`.msg.assistant[data-id="${CSS.escape(replyId)}"] .body`);
    if (shown) shown.textContent = m.content;
  }
}

async function stop() {
  const s = state.streaming;
  if (!s) return;
  $("stop").disabled = true;
  if (s.replyId && state.features.cancel) {
    const res = await request("POST", `/conversations/${s.conversationId}/messages/${s.replyId}/cancel`).catch(() => null);
    // Accepted: the stream itself ends with stop_reason "cancelled".
    if (res && res.ok) return;
  }
  // Without the cancel route, leaving the stream is what stops a reply.
  s.controller.abort();
}

async function regenerate(messageId) {
  if (state.streaming) return hint("A reply is still being written: wait for it or press Stop.");
  const old = $("log").querySelector(`.msg.assistant[data-id="${CSS.escape(messageId)}"]`);
  const view = new ReplyView({ role: "assistant" });
  if (old) old.replaceWith(view.root);
  else $("log").append(view.root);
  const s = { conversationId: state.current, replyId: null, controller: new AbortController(), view };
  try {
    await runReply(s, () =>
      request("POST", `/conversations/${s.conversationId}/messages/${messageId}/regenerate`, { body: {}, signal: s.controller.signal }),
    );
    await openConversation(s.conversationId);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.status === 404 && e.type === "not_found_error" && /route/i.test(e.message)) state.features.regenerate = false;
    hint(e.message);
    await openConversation(s.conversationId);
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
  select.replaceChildren(new Option("default effort", ""), ...efforts.map((e) => new Option(`${e} effort`, e)));
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
  if ($("content").value.trim()) hint("");
});
$("stop").onclick = () => stop();
$("cancel-edit").onclick = () => cancelEdit();
$("menu").onclick = () => sidebar(true);
$("close-sidebar").onclick = () => sidebar(false);
$("scrim").onclick = () => sidebar(false);
$("model").onchange = () => syncEffort();
let searchTimer;
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(loadConversations, 250);
});

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
