// Titles for conversations created without one. After the first reply, the model writes a short
// title (where there is a model to ask: `ModelProvider.completeText`); otherwise, or when that fails,
// the first words of the user's first message serve. The database only sets a title while there is
// none (set_default_title), so a title the user chose, even a moment earlier, always wins.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { modelTraits } from "../models";
import type { CompletionRequest, ModelProvider, UserStore } from "../ports";
import { estimateTokens } from "./prompt";

/** Longest title this writes, in characters (the API accepts up to 200 from users). */
export const TITLE_MAX_CHARS = 60;
/** What the model may spend on the title itself. */
const TITLE_TOKENS = 24;
/** A reasoning model that cannot stop reasoning spends tokens thinking first; they count too. */
const REASONING_ALLOWANCE = 400;
/** The title request gives up after this; the reply's invocation waits for it, so it must be short. */
export const TITLE_TIMEOUT_MS = 8_000;
/** How much of the first message the model is shown. */
const PROMPT_CHARS = 2_000;

const INSTRUCTION =
  "Write a title of at most six words for a conversation that starts with the user's message below. " +
  "Answer with the title only: no quotes, no final punctuation.";

/**
 * Up to `max` characters of `text` made of whole words, with "…" when words were left out. Only a first
 * word longer than the limit by itself (a long URL, say) is cut, since otherwise there would be nothing.
 */
export function firstWords(text: string, max = TITLE_MAX_CHARS): string | null {
  const words = text.replace(/\s+/g, " ").trim().split(" ").filter(Boolean);
  if (words.length === 0) return null;
  const chars = (s: string) => [...s].length;
  let title = "";
  for (const word of words) {
    const next = title ? `${title} ${word}` : word;
    if (chars(next) > max) break;
    title = next;
  }
  if (!title) return `${[...words[0]!].slice(0, max - 1).join("")}…`;
  if (title.length === words.join(" ").length) return title;
  // Keep room for the ellipsis by dropping whole words, and no dangling punctuation before it.
  while (chars(title) + 1 > max && title.includes(" ")) title = title.slice(0, title.lastIndexOf(" "));
  return `${title.replace(/[\s,;:.!?\-–—]+$/u, "")}…`;
}

/**
 * Markdown as the plain text a reader sees: no fences, headings, quote or list markers, emphasis,
 * code backticks or tags; links and images keep their text. Titles are shown as plain text everywhere
 * (lists, headings, exports), and both the model's answer and a first message may be written in markdown.
 */
export function plainText(markdown: string): string {
  return markdown
    .replace(/^ {0,3}(`{3,}|~{3,}).*$/gm, "")
    .replace(/^ {0,3}([-*_])( *\1){2,} *$/gm, "")
    .replace(/^ {0,3}#{1,6}(?=\s|$)/gm, "")
    .replace(/^ {0,3}(> ?)+/gm, "")
    .replace(/^\s*(?:[-*+]|\d{1,9}[.)])\s+(?:\[[ xX]\]\s+)?/gm, "")
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, _ticks, code: string) => code.trim())
    .replace(/<\/?[a-z][^>]*>/gi, "")
    .replace(/(\*\*|__|~~)(?=\S)([\s\S]*?\S)\1/g, "$2")
    .replace(/(^|[^\p{L}\p{N}*_])[*_](?=\S)([^*_\n]*?\S)[*_](?![\p{L}\p{N}])/gu, "$1$2");
}

/** The model's answer as a title: one line, no quotes or "Title:" label, whole words within the limit. */
export function cleanTitle(raw: string): string | null {
  const line = plainText(raw.replace(/<think>[\s\S]*?<\/think>/g, ""))
    .split("\n")
    .map((l) => l.trim())
    .find(Boolean);
  if (!line) return null;
  const bare = line
    .replace(/^(\*\*)?title(\*\*)?\s*:\s*/i, "")
    .replace(/^["'“”‘’*#\s]+|["'“”‘’*\s]+$/gu, "")
    .replace(/[.。]+$/u, "")
    .trim();
  return bare ? firstWords(bare) : null;
}

export interface TitleDeps {
  store: Pick<UserStore, "setDefaultTitle" | "reserveTitle" | "settleTokens">;
  provider: Pick<ModelProvider, "completeText" | "modelLabel">;
  /** The model that writes titles (DEFAULT_MODEL: the one the operator chose as the everyday model). */
  model: string;
  /** The user's daily token budget (0: none) and the start of its day (ISO): a title is a model call too. */
  budget: { tokens: number; since: string };
  /** Told, for a quiet log line, when the model could not write the title (the fallback is used). */
  onFailure?: (error: unknown) => void;
}

/**
 * Gives the conversation a title from its first message. Never throws: a failed model request falls back
 * to the first words, a failed write is reported and dropped.
 */
export async function writeTitle(deps: TitleDeps, conversationId: string, firstMessage: string): Promise<void> {
  let title: string | null = null;
  if (deps.provider.completeText) {
    try {
      title = cleanTitle(await askModel(deps, firstMessage));
    } catch (e) {
      deps.onFailure?.(e);
    }
  }
  title ??= firstWords(plainText(firstMessage));
  if (!title) return;
  try {
    await deps.store.setDefaultTitle(conversationId, title);
  } catch (e) {
    deps.onFailure?.(e);
  }
}

/**
 * The title call, in the usage ledger like a reply: its worst case (the prompt, counted by the estimate
 * that never undercounts, plus its output limit) is reserved first, only if it fits what is left of the
 * budget, and settled with what Groq reported. Without room: "" (the first words serve). A call that
 * failed is settled at its worst case: Groq may have billed it, and nothing says it did not.
 */
async function askModel(deps: TitleDeps, firstMessage: string): Promise<string> {
  const info = modelTraits(deps.model);
  // The least thinking the model allows; a model that can turn it off needs no allowance.
  const effort = info.reasoning_efforts.includes("none") ? "none" : info.reasoning_efforts[0];
  const thinks = info.reasoning && effort !== "none";
  const request: Omit<CompletionRequest, "onAccepted" | "temperature"> = {
    model: deps.model,
    messages: [
      { role: "system", content: INSTRUCTION },
      { role: "user", content: [...firstMessage].slice(0, PROMPT_CHARS).join("") },
    ],
    max_tokens: TITLE_TOKENS + (thinks ? REASONING_ALLOWANCE : 0),
    ...(effort !== undefined ? { reasoning_effort: effort } : {}),
    signal: AbortSignal.timeout(TITLE_TIMEOUT_MS),
  };
  const worst = { input_tokens: request.messages.reduce((n, m) => n + estimateTokens(m.content), 0), output_tokens: request.max_tokens! };
  const secret = randomBytes(32).toString("hex");
  const reservation = {
    reservation_id: randomUUID(),
    model: deps.provider.modelLabel(deps.model),
    tokens: worst.input_tokens + worst.output_tokens,
    budget: deps.budget.tokens,
    since: deps.budget.since,
    secret_hash: createHash("sha256").update(secret, "utf8").digest("hex"),
  };
  if (!(await deps.store.reserveTitle(reservation))) return "";
  const started = performance.now();
  let used = worst;
  try {
    const answer = await deps.provider.completeText!(request);
    if (answer.usage) used = answer.usage;
    return answer.text;
  } finally {
    const settled = { reservation_id: reservation.reservation_id, secret, ...used, latency_ms: Math.round(performance.now() - started) };
    await deps.store.settleTokens(settled).catch((e: unknown) => deps.onFailure?.(e));
  }
}
