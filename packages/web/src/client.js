// What every part of the page shares: the API client (bearer token, one refresh on a 401), the
// page's state, what survives a reload (localStorage), and errors turned into sentences.
export const API = "/api/v1";
export const $ = (id) => document.getElementById(id);

export const saved = {
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

export const state = {
  /** { access_token, refresh_token?, email } */
  session: saved.get("session"),
  current: null,
  conversation: null,
  messages: [],
  /** The reply being read: { conversationId, replyId, controller, view, stopRequested } */
  streaming: null,
  /** The user message being edited in place: { message, close() } */
  editing: null,
  /** New conversation's creation while it is under way: a send waits for it, so it goes there. */
  opening: null,
  models: [],
  /** Longest message the API takes, in characters (from its OpenAPI document when it says). */
  maxChars: 32_000,
  features: { cancel: false, resume: false, regenerate: false, branch: false, edit: false, search: false, models: false, export: false, keys: false, usage: false, password: false, logoutAll: false, tools: false, toolResults: false },
};

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.type = e.type;
    this.fields = e.fields || [];
    this.replyId = e.reply_id;
    this.retryAfter = e.retry_after;
  }
}

export function setSession(session) {
  state.session = session;
  saved.set("session", session);
}

let refreshing = null;
/** Called when the session has ended for good (the refresh token no longer works). */
export const hooks = { sessionEnded: () => {} };

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
export async function request(method, path, { body, signal, headers = {} } = {}, retried = false) {
  const h = { ...headers };
  if (state.session) h.authorization = "Bearer " + state.session.access_token;
  if (body !== undefined) h["content-type"] = "application/json";
  const res = await fetch(API + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal });
  if (res.status === 401 && state.session && !/^\/auth\/(login|register|refresh|logout|password)$/.test(path)) {
    if (!retried && (await refreshTokens())) return request(method, path, { body, signal, headers }, true);
    hooks.sessionEnded();
  }
  return res;
}

export async function api(method, path, body) {
  const res = await request(method, path, { body });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const capitalise = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const sentence = (s) => {
  const t = capitalise(String(s).trim());
  return /[.!?…]$/.test(t) ? t : t + ".";
};

/** What each request field is called on the page, for errors that have no input to sit under. */
const FIELD_NAMES = {
  content: "The message",
  temperature: "Temperature",
  max_tokens: "Max tokens",
  model: "The model",
  reasoning_effort: "Reasoning effort",
  title: "The title",
  system_prompt: "The system prompt",
  q: "The search",
  name: "The key name",
  tools: "The tools",
};

/** An error as a sentence a person understands (the API's own words where they already are one). */
export function humanError(e) {
  if (!(e instanceof ApiError)) return "The server could not be reached: check the connection and try again.";
  const n = state.maxChars.toLocaleString("en");
  switch (e.status) {
    case 400:
    case 415:
      return "The page sent something the server could not read: reload the page and try again.";
    case 401:
      return e.type === "authentication_error" && /password|email/i.test(e.message) ? sentence(e.message) : "Your session has ended: sign in again.";
    case 403:
      return "That needs a signed-in session, not an API key.";
    case 404:
      return "That was not found: it may have been deleted.";
    case 413:
      return `That message is too large to send: keep it under ${n} characters.`;
    case 429:
      return e.retryAfter != null ? `${sentence(e.message).replace(/\.$/, "")}: try again in ${e.retryAfter} s.` : sentence(e.message);
    case 422: {
      if (!e.fields.length) return sentence(e.message);
      return e.fields
        .map((f) => {
          const key = f.path.replace(/^(body|query)\./, "");
          return sentence(`${FIELD_NAMES[key] ?? key} ${f.message}`);
        })
        .join(" ");
    }
  }
  if (e.status >= 500) return "Something went wrong on the server: try again in a moment.";
  return sentence(e.message);
}

/**
 * Puts each of a 422's `error.fields` under its input (a `.field-error[data-field]` slot inside
 * `scope`, naming its input in `data-for`); what has no input on screen goes to `fallback`, as a sentence.
 */
export function showError(e, fallback, scope = document) {
  clearFieldErrors(scope);
  const loose = [];
  for (const f of (e instanceof ApiError && e.fields) || []) {
    const slot = scope.querySelector(`.field-error[data-field="${CSS.escape(f.path)}"]`);
    const input = slot && document.getElementById(slot.dataset.for);
    if (slot && input && input.getClientRects().length) {
      slot.textContent = sentence(f.message);
      input.setAttribute("aria-invalid", "true");
    } else loose.push(f);
  }
  if (!(e instanceof ApiError)) return fallback(humanError(e));
  if (loose.length || !e.fields.length) {
    const rest = new ApiError(e.status, { error: { message: e.message, type: e.type, retry_after: e.retryAfter } });
    rest.fields = loose;
    fallback(humanError(rest));
  }
}

export function clearFieldErrors(scope = document) {
  for (const p of scope.querySelectorAll(".field-error")) p.textContent = "";
  for (const i of scope.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

export const seconds = (ms) => (ms == null ? "–" : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text != null) e.textContent = text;
  return e;
}

export function button(text, className, onclick, label) {
  const b = el("button", className, text);
  b.type = "button";
  if (label) b.setAttribute("aria-label", label);
  b.onclick = onclick;
  return b;
}

/** Saves a response body as a file, named by its content-disposition or `fallback`. */
export async function download(res, fallback) {
  const blob = await res.blob();
  const cd = res.headers.get("content-disposition") || "";
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  const a = el("a");
  a.href = URL.createObjectURL(blob);
  a.download = m ? decodeURIComponent(m[1]) : fallback;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
