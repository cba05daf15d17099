// What this API knows about a model. Two sources, each for its own facts:
// - the provider's list (model-catalog.ts: Groq's GET /openai/v1/models) says which models exist, their
//   context window and their output cap;
// - the family table below says what only the code can know: whether a family reasons, the
//   `reasoning_effort` values it takes, and which tokenizer counts its tokens.
// One source for the `GET /api/v1/models` listing, the model a send is answered with, the
// `reasoning_effort` and `max_tokens` checks, the stream's thinking block and the choice of tokenizer.
import type { Config } from "./config";
import type { ModelSnapshot } from "./model-catalog";
import type { ReasoningEffort } from "./reasoning-efforts";
import type { ModelList, ServerToolName } from "./schemas";

export { REASONING_EFFORTS, type ReasoningEffort } from "./reasoning-efforts";

/** Which tokenizer counts the model's tokens: OpenAI's o200k BPE, or the byte-based estimate. */
export type TokenizerKind = "o200k" | "estimate";

/** What a model family does, whatever the provider serves of it. */
export interface ModelTraits {
  /** Whether the model streams its reasoning apart from the answer (a thinking block). */
  reasoning: boolean;
  /** The `reasoning_effort` values a request may send; leaving it out means the model's default. */
  reasoning_efforts: ReasoningEffort[];
  tokenizer: TokenizerKind;
  /** The provider's built-in tools the model can use (SERVER_TOOLS decides which a send may ask for). */
  server_tools: ServerToolName[];
}

// Groq runs browser search and code execution for gpt-oss (console.groq.com/docs/browser-search,
// /docs/code-execution; docs/sources.md).
const GPT_OSS: ModelTraits = { reasoning: true, reasoning_efforts: ["low", "medium", "high"], tokenizer: "o200k", server_tools: ["browser_search", "code_interpreter"] };
// qwen3 on Groq: `none` turns reasoning off, leaving it out keeps the model's default (groq-sdk's
// reasoning_effort doc). Its tokenizer (a byte-level BPE with a 248k vocabulary) has no well-kept npm
// package, so counts are the byte-based estimate, which never undercounts a byte-level BPE.
const QWEN3: ModelTraits = { reasoning: true, reasoning_efforts: ["none"], tokenizer: "estimate", server_tools: [] };

/** Families by id prefix; the longest matching prefix wins. */
const FAMILIES: [prefix: string, traits: ModelTraits][] = [
  ["openai/gpt-oss-", GPT_OSS],
  // Groq's browser-search page lists the safeguard model, its code-execution page does not.
  ["openai/gpt-oss-safeguard-", { ...GPT_OSS, server_tools: ["browser_search"] }],
  ["qwen/qwen3", QWEN3],
  // qwen3.8 additionally accepts low/medium/high (groq-sdk 1.6's reasoning_effort doc).
  ["qwen/qwen3.8-", { ...QWEN3, reasoning_efforts: ["none", "low", "medium", "high"] }],
];

/** An unknown family: no reasoning, no effort, counted by the estimate. */
const UNKNOWN: ModelTraits = { reasoning: false, reasoning_efforts: [], tokenizer: "estimate", server_tools: [] };

export function modelTraits(id: string): ModelTraits {
  let best: [string, ModelTraits] | undefined;
  for (const family of FAMILIES) if (id.startsWith(family[0]) && (!best || family[0].length > best[0].length)) best = family;
  return best?.[1] ?? UNKNOWN;
}

/** Whether a reply from `model` asked with `effort` streams a thinking block. */
export const reasons = (model: string, effort?: ReasoningEffort) => modelTraits(model).reasoning && effort !== "none";

export interface ModelInfo extends ModelTraits {
  id: string;
  /** Tokens of prompt plus reply the model accepts; null when unknown. */
  context_window: number | null;
  /** The most tokens the model writes in one reply; null when unknown. */
  max_output_tokens: number | null;
}

type ModelSettings = Pick<Config, "DEFAULT_MODEL" | "ALLOWED_MODELS" | "MODEL_CONTEXT_WINDOWS" | "SERVER_TOOLS">;

/**
 * The built-in tools the server lets sends ask for: SERVER_TOOLS, and none while the offline model
 * answers (it runs no tools of its own).
 */
export const allowedServerTools = (config: Pick<Config, "SERVER_TOOLS">, served: ModelSnapshot | null): ServerToolName[] =>
  served?.source === "offline" ? [] : config.SERVER_TOOLS;

/** The built-in tools a send may ask of `model`: those it can use that the server allows. */
export const serverToolsFor = (model: string, allowed: readonly ServerToolName[]): ServerToolName[] =>
  modelTraits(model).server_tools.filter((t) => allowed.includes(t));

/**
 * The model as the provider serves it, with its family's traits. The window and the cap are the
 * provider's; MODEL_CONTEXT_WINDOWS only stands in for a window the provider did not give (its list was
 * never read, or the entry has none).
 */
export function modelInfo(id: string, served: ModelSnapshot | null, windows: Record<string, number> = {}): ModelInfo {
  const entry = served?.get(id);
  return {
    id,
    ...modelTraits(id),
    context_window: entry?.context_window ?? windows[id] ?? null,
    max_output_tokens: entry?.max_output_tokens ?? null,
  };
}

/** Whether `id` may be called: the provider lists it, or its list is unknown (then every configured model is tried). */
export const isServed = (id: string, served: ModelSnapshot | null) => served === null || served.get(id) !== undefined;

/**
 * The model that answers when a send names none (and titles): DEFAULT_MODEL while the provider serves
 * it, else the first allowed model it serves. When it serves none of them, DEFAULT_MODEL still goes,
 * and the provider's refusal says why.
 */
export function defaultModel(config: Pick<Config, "DEFAULT_MODEL" | "ALLOWED_MODELS">, served: ModelSnapshot | null): string {
  if (isServed(config.DEFAULT_MODEL, served)) return config.DEFAULT_MODEL;
  return config.ALLOWED_MODELS.find((m) => isServed(m, served)) ?? config.DEFAULT_MODEL;
}

/** The configured models the provider does not serve, and what answers instead of DEFAULT_MODEL (for a log line). */
export function unservedModels(config: Pick<Config, "DEFAULT_MODEL" | "ALLOWED_MODELS">, served: ModelSnapshot) {
  const missing = config.ALLOWED_MODELS.filter((m) => !isServed(m, served));
  return { missing, defaultMissing: missing.includes(config.DEFAULT_MODEL), answering: defaultModel(config, served) };
}

/** Why a configured model cannot be named now. */
export const notServedReason = (served: ModelSnapshot) => `not served by ${served.served_by}`;

/**
 * `GET /api/v1/models`: the allowed models the provider serves, the one answering by default first,
 * with the provider's window and cap; the allowed ones it does not serve apart, with the reason. Without
 * a list (never read) the configured models, with unknown window and cap.
 */
export function listModels(config: ModelSettings, served: ModelSnapshot | null): ModelList {
  const answering = defaultModel(config, served);
  const ids = [answering, ...config.ALLOWED_MODELS.filter((m) => m !== answering)];
  return {
    source: served?.source ?? "configuration",
    fetched_at: served?.fetched_at ?? null,
    data: ids
      .filter((id) => isServed(id, served))
      .map((id) => {
        const { tokenizer: _, ...info } = modelInfo(id, served, config.MODEL_CONTEXT_WINDOWS);
        return { ...info, server_tools: serverToolsFor(id, allowedServerTools(config, served)), default: id === answering };
      }),
    unavailable: served ? ids.filter((id) => !isServed(id, served)).map((id) => ({ id, reason: notServedReason(served) })) : [],
  };
}
