// The model catalog: what this API knows about each Groq model it may call. One source for the
// `GET /api/v1/models` listing, the `reasoning_effort` check, the stream's thinking block and the choice
// of tokenizer. Facts from Groq's docs (the README's Models section cites the pages); a context window can be
// overridden per model with MODEL_CONTEXT_WINDOWS, for a model Groq serves with a different window or
// one this catalog does not know.

export const REASONING_EFFORTS = ["none", "low", "medium", "high"] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** Which tokenizer counts the model's tokens: OpenAI's o200k BPE, or the byte-based estimate. */
export type TokenizerKind = "o200k" | "estimate";

export interface ModelInfo {
  id: string;
  /** Tokens of prompt plus reply the model accepts; null when neither the catalog nor the config knows. */
  context_window: number | null;
  /** Whether the model streams its reasoning apart from the answer (a thinking block). */
  reasoning: boolean;
  /** The `reasoning_effort` values a request may send; leaving it out means the model's default. */
  reasoning_efforts: ReasoningEffort[];
  tokenizer: TokenizerKind;
}

type Entry = Omit<ModelInfo, "id">;

const GPT_OSS: Entry = { context_window: 131_072, reasoning: true, reasoning_efforts: ["low", "medium", "high"], tokenizer: "o200k" };
// qwen3 on Groq: `none` turns reasoning off, leaving it out keeps the model's default (groq-sdk's
// reasoning_effort doc). Its tokenizer (a byte-level BPE with a 248k vocabulary) has no well-kept npm
// package, so counts are the byte-based estimate, which never undercounts a byte-level BPE.
const QWEN3: Entry = { context_window: 131_072, reasoning: true, reasoning_efforts: ["none"], tokenizer: "estimate" };

const CATALOG: Record<string, Entry> = {
  "openai/gpt-oss-20b": GPT_OSS,
  "openai/gpt-oss-120b": GPT_OSS,
  "qwen/qwen3.6-27b": QWEN3,
  // qwen3.8-27b additionally accepts low/medium/high (groq-sdk 1.6's reasoning_effort doc).
  "qwen/qwen3.8-27b": { ...QWEN3, reasoning_efforts: ["none", "low", "medium", "high"] },
};

/** An unknown model: no reasoning, no effort, counted by the estimate. */
const UNKNOWN: Entry = { context_window: null, reasoning: false, reasoning_efforts: [], tokenizer: "estimate" };

/** What the catalog knows about `id`, with the context window from `windows` (config) first. */
export function modelInfo(id: string, windows: Record<string, number> = {}): ModelInfo {
  const entry = CATALOG[id] ?? UNKNOWN;
  return { id, ...entry, context_window: windows[id] ?? entry.context_window };
}

/** Whether a reply from `model` asked with `effort` streams a thinking block. */
export const reasons = (model: string, effort?: ReasoningEffort) => modelInfo(model).reasoning && effort !== "none";

/** The allowed models as `GET /api/v1/models` lists them, the default first. */
export function listModels(config: {
  DEFAULT_MODEL: string;
  ALLOWED_MODELS: string[];
  MODEL_CONTEXT_WINDOWS: Record<string, number>;
}) {
  const ids = [config.DEFAULT_MODEL, ...config.ALLOWED_MODELS.filter((m) => m !== config.DEFAULT_MODEL)];
  return {
    data: ids.map((id) => {
      const { tokenizer: _, ...info } = modelInfo(id, config.MODEL_CONTEXT_WINDOWS);
      return { ...info, default: id === config.DEFAULT_MODEL };
    }),
  };
}
