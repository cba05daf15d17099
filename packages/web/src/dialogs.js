// The two dialogs: a conversation's settings (title, system prompt, the per-send temperature and
// max tokens, export, delete) and the account's settings (usage today, API keys, password, log out
// everywhere).
import { $, api, ApiError, button, clearFieldErrors, download, el, humanError, request, saved, setSession, showError, state } from "./client.js";
import { copyButton } from "./markdown.js";

/**
 * The send options the API takes per message, kept per conversation in this browser (`null`: the
 * conversation not made yet, which also holds its system prompt until the first send makes it).
 * With `value`, replaces them; returns them.
 */
export function prefsFor(id, value) {
  const key = "prefs:" + (id ?? "new");
  if (value !== undefined) saved.set(key, Object.keys(value).length ? value : null);
  return saved.get(key) || {};
}

let ui = { hint: () => {}, forgetSession: () => {}, signedOut: () => {}, reload: async () => {} };

const numberOrNull = (input) => (input.value.trim() === "" ? null : Number(input.value));

export function openConversationSettings() {
  const d = $("conv-dialog");
  clearFieldErrors(d);
  $("conv-error").textContent = "";
  const c = state.conversation;
  const prefs = prefsFor(state.current);
  $("conv-title").value = (c ? c.title : prefs.title) || "";
  $("conv-system").value = (c ? c.system_prompt : prefs.system_prompt) || "";
  $("conv-temperature").value = prefs.temperature ?? "";
  $("conv-max-tokens").value = prefs.max_tokens ?? "";
  $("delete-conv").hidden = !c;
  $("export-json").hidden = $("export-md").hidden = !c || !state.features.export;
  d.showModal();
  $("conv-title").focus();
}

async function saveConversationSettings() {
  const d = $("conv-dialog");
  clearFieldErrors(d);
  $("conv-error").textContent = "";
  const temperature = numberOrNull($("conv-temperature"));
  const maxTokens = numberOrNull($("conv-max-tokens"));
  // The API checks these on each send; checking here too puts the error next to the field now.
  if (temperature != null && !(temperature >= 0 && temperature <= 2)) return ($("conv-error").textContent = "Temperature must be between 0 and 2.");
  if (maxTokens != null && !(Number.isInteger(maxTokens) && maxTokens >= 1)) return ($("conv-error").textContent = "Max tokens must be a whole number of at least 1.");
  const c = state.conversation;
  const title = $("conv-title").value.trim();
  const system = $("conv-system").value;
  try {
    if (c) {
      const patch = {};
      if (title !== (c.title || "")) patch.title = title || null;
      if (system !== (c.system_prompt || "")) patch.system_prompt = system || null;
      if (Object.keys(patch).length) await api("PATCH", "/conversations/" + c.id, patch);
    }
    const prefs = {};
    if (temperature != null) prefs.temperature = temperature;
    if (maxTokens != null) prefs.max_tokens = maxTokens;
    if (!c && system) prefs.system_prompt = system;
    if (!c && title) prefs.title = title;
    prefsFor(state.current, prefs);
    d.close();
    await ui.reload(false);
    ui.hint(c ? "Conversation settings saved." : "Settings saved: they apply from the first message.");
  } catch (e) {
    showError(e, (text) => ($("conv-error").textContent = text), d);
  }
}

async function exportConversation(format) {
  const c = state.conversation;
  if (!c) return;
  try {
    const res = await request("GET", `/conversations/${c.id}/export?format=${format}`);
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    const base = (c.title || "conversation").replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "").toLowerCase() || "conversation";
    await download(res, `${base}-${c.id}.${format === "markdown" ? "md" : "json"}`);
  } catch (e) {
    $("conv-error").textContent = humanError(e);
  }
}

async function deleteConversation() {
  const c = state.conversation;
  if (!c || !confirm(`Delete “${c.title || "New conversation"}” and all its messages?`)) return;
  try {
    await api("DELETE", "/conversations/" + c.id);
    prefsFor(c.id, {});
    $("conv-dialog").close();
    await ui.reload(true);
    ui.hint("Conversation deleted.");
  } catch (e) {
    $("conv-error").textContent = humanError(e);
  }
}

// ---------------------------------------------------------------- account settings

function status(text) {
  $("settings-status").textContent = text;
}

export async function openSettings() {
  const d = $("settings");
  clearFieldErrors(d);
  status("");
  $("new-key").hidden = true;
  $("new-key-value").textContent = "";
  d.querySelector('[aria-labelledby="keys-title"]').hidden = !state.features.keys;
  d.querySelector('[aria-labelledby="usage-title"]').hidden = !state.features.usage;
  d.querySelector('[aria-labelledby="password-title"]').hidden = !state.features.password;
  d.querySelector('[aria-labelledby="sessions-title"]').hidden = !state.features.logoutAll;
  d.showModal();
  $("settings-close").focus();
  await Promise.all([state.features.usage && loadUsage(), state.features.keys && loadKeys()]);
}

async function loadUsage() {
  const today = new Date().toISOString().slice(0, 10);
  try {
    const r = await api("GET", `/usage?from=${today}&group_by=day`);
    const t = r.totals;
    const n = (x) => x.toLocaleString("en");
    $("usage").textContent =
      `${n(t.messages)} ${t.messages === 1 ? "reply" : "replies"} · ${n(t.input_tokens)} tokens in · ${n(t.output_tokens)} tokens out` +
      (t.title_calls ? ` · ${n(t.title_calls)} ${t.title_calls === 1 ? "title" : "titles"}` : "") +
      " (since 00:00 UTC)";
  } catch (e) {
    $("usage").textContent = humanError(e);
  }
}

async function loadKeys() {
  const list = $("keys");
  try {
    const r = await api("GET", "/api-keys");
    const keys = r.data ?? r;
    if (!keys.length) return list.replaceChildren(el("li", "muted", "No API keys yet."));
    list.replaceChildren(
      ...keys.map((k) => {
        const li = el("li");
        const what = el("span", "key-what");
        what.append(el("strong", null, k.name), ` ${k.prefix}… · created ${new Date(k.created_at).toLocaleDateString()}`);
        if (k.last_used_at) what.append(` · last used ${new Date(k.last_used_at).toLocaleDateString()}`);
        if (k.expires_at) what.append(` · expires ${new Date(k.expires_at).toLocaleDateString()}`);
        li.append(what, button("Revoke", "danger", () => revokeKey(k), `Revoke ${k.name}`));
        return li;
      }),
    );
  } catch (e) {
    list.replaceChildren(el("li", "error", humanError(e)));
  }
}

async function createKey() {
  const d = $("settings");
  clearFieldErrors(d);
  status("");
  const name = $("key-name").value.trim();
  if (!name) {
    d.querySelector('[data-field="body.name"]').textContent = "Give the key a name.";
    return $("key-name").focus();
  }
  try {
    const k = await api("POST", "/api-keys", { name });
    $("key-name").value = "";
    $("new-key-value").textContent = k.key;
    const box = $("new-key").querySelector(".inline");
    box.querySelector(".copy")?.remove();
    box.append(copyButton(() => k.key, "Copy API key"));
    $("new-key").hidden = false;
    status(`Key “${k.name}” created.`);
    await loadKeys();
  } catch (e) {
    showError(e, status, d);
  }
}

async function revokeKey(k) {
  if (!confirm(`Revoke the key “${k.name}”? Scripts using it stop working at once.`)) return;
  try {
    await api("DELETE", "/api-keys/" + k.id);
    status(`Key “${k.name}” revoked.`);
    await loadKeys();
  } catch (e) {
    status(humanError(e));
  }
}

async function changePassword() {
  const d = $("settings");
  clearFieldErrors(d);
  status("");
  try {
    const r = await api("POST", "/auth/password", { current_password: $("current_password").value, new_password: $("new_password").value });
    setSession({ ...state.session, access_token: r.access_token, refresh_token: r.refresh_token });
    $("current_password").value = $("new_password").value = "";
    status("Password changed. Every other session has been signed out.");
  } catch (e) {
    showError(e, status, d);
  }
}

async function logoutEverywhere() {
  if (!confirm("Log out everywhere? Every device signed in to this account is signed out, this page too. API keys keep working.")) return;
  status("");
  try {
    const r = await api("POST", "/auth/logout-all");
    $("settings").close();
    const n = r.revoked_sessions;
    ui.signedOut(`Logged out everywhere: ${n} ${n === 1 ? "session" : "sessions"} ended. Sign in again to continue.`);
  } catch (e) {
    status(humanError(e));
  }
}

export function wireDialogs(hooks) {
  ui = hooks;
  $("conv-form").addEventListener("submit", (e) => {
    e.preventDefault();
    saveConversationSettings();
  });
  $("conv-close").onclick = () => $("conv-dialog").close();
  $("export-json").onclick = () => exportConversation("json");
  $("export-md").onclick = () => exportConversation("markdown");
  $("delete-conv").onclick = () => deleteConversation();
  $("settings-close").onclick = () => $("settings").close();
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    createKey();
  });
  $("password-form").addEventListener("submit", (e) => {
    e.preventDefault();
    changePassword();
  });
  $("logout-all").onclick = () => logoutEverywhere();
  // A click on the backdrop (outside the dialog's box) closes it, as Escape does.
  for (const d of [$("conv-dialog"), $("settings")]) {
    d.addEventListener("click", (e) => {
      if (e.target === d) d.close();
    });
  }
}
