import { randomUUID } from "node:crypto";
import { AppError } from "../errors";
import type { CompletionEvent, CompletionRequest, ModelProvider } from "../ports";
import { estimateTokens } from "../chat/prompt";
import { reasons } from "../models";
import type { ModelCatalog, ModelSnapshot, ServedModel } from "../model-catalog";
import type { ToolDefinition } from "../schemas";

export const OFFLINE_MODEL = "offline-echo";
/** The offline model's window and output cap (its output cap is the most `max_tokens` a send may ask). */
export const OFFLINE_CONTEXT_WINDOW = 131_072;
export const OFFLINE_MAX_OUTPUT_TOKENS = 32_768;

/**
 * The offline model's list, in the shape Groq's takes: one model, with its window and cap, which
 * answers under whatever name is asked for, so every configured model can be tried without a key.
 */
const offlineModels: ModelSnapshot = {
  source: "offline",
  served_by: "the offline model",
  fetched_at: null,
  get: (id): ServedModel => ({ id, context_window: OFFLINE_CONTEXT_WINDOW, max_output_tokens: OFFLINE_MAX_OUTPUT_TOKENS }),
};
const offlineCatalog: ModelCatalog = { current: () => offlineModels, ready: () => Promise.resolve() };

/**
 * The model used when no GROQ_API_KEY is configured: a deterministic reply streamed word by word, so a
 * newcomer sees the whole system (streaming, storage, usage) work without an account. Its `model` label
 * says it is offline, so nobody mistakes its text for a real model's. When the requested model reasons
 * (the default, gpt-oss, does; `reasoning_effort: "none"` turns it off where the model allows), a short
 * reasoning phase comes first, so the thinking block shows too.
 */
export function createOfflineProvider(opts: { tokenDelayMs: number }): ModelProvider {
  return {
    name: "offline",
    catalog: offlineCatalog,
    modelLabel: () => OFFLINE_MODEL,
    complete: (req) => offlineStream(req, opts.tokenDelayMs),
  };
}

async function* offlineStream(req: CompletionRequest, delayMs: number): AsyncGenerator<CompletionEvent> {
  const lastTurn = req.messages.at(-1);
  const last = lastTurn?.content ?? "";
  const quoted = last.length > 200 ? `${last.slice(0, 200)}…` : last;
  const thinking = reasons(req.model, req.reasoning_effort)
    ? `(Offline: no model is thinking here.) ${req.model} would reason about the message first, and its thoughts would stream here, apart from the answer.`
    : "";
  const reply =
    lastTurn?.role === "tool"
      ? `This is the offline model: set GROQ_API_KEY to talk to ${req.model}. The tool ${lastTurn.is_error ? "failed with" : "returned"}: "${quoted}"`
      : `This is the offline model: set GROQ_API_KEY to talk to ${req.model}. You said: "${quoted}"`;
  const tool = toolToCall(req);
  const words: Exclude<CompletionEvent, { type: "finish" }>[] = [
    ...split(thinking).map((text) => ({ type: "reasoning" as const, text })),
    ...(tool ? playCall(tool) : split(reply).map((text) => ({ type: "text" as const, text }))),
  ];
  const limit = req.max_tokens;
  let sent = 0;
  req.onAccepted?.();
  for (const word of words) {
    if (sent >= limit) break;
    if (delayMs > 0) await sleep(delayMs, req.signal);
    if (req.signal.aborted) throw abortError(req.signal);
    yield word;
    sent++;
  }
  const input = req.messages.reduce((n, m) => n + estimateTokens(m.content), 0);
  yield {
    type: "finish",
    finish_reason: sent < words.length ? "max_tokens" : tool ? "tool_use" : "end_turn",
    usage: { input_tokens: input, output_tokens: sent, estimated: true },
    metadata: { provider: "offline" },
  };
}

const split = (text: string) => (text ? text.split(/(?<= )/) : []);

/**
 * The tool the offline model calls: with tools offered (and not turned off by tool_choice "none"), the
 * one tool_choice names, else the first. It calls one on every turn that does not answer a tool's
 * result, and answers a result from it, so a client's tool loop can be tried end to end without a key.
 */
function toolToCall(req: CompletionRequest): ToolDefinition | null {
  const tools = req.tools ?? [];
  if (!tools.length || req.tool_choice === "none" || req.messages.at(-1)?.role === "tool") return null;
  const choice = req.tool_choice;
  return (typeof choice === "object" ? tools.find((t) => t.name === choice.name) : undefined) ?? tools[0]!;
}

/** A call of `tool` with arguments its schema accepts, streamed as a model would: its input JSON in pieces. */
function playCall(tool: ToolDefinition): Exclude<CompletionEvent, { type: "finish" }>[] {
  const json = JSON.stringify(sampleOf(tool.input_schema));
  const pieces = json.match(/[\s\S]{1,8}/g) ?? [];
  return [
    { type: "tool_use", id: `toolu_offline_${randomUUID().replaceAll("-", "")}`, name: tool.name },
    ...pieces.map((text) => ({ type: "tool_input" as const, text })),
  ];
}

/**
 * A value the schema accepts in the simple cases: its default, its first enum value or const, else a
 * plain value of its type; an object gets its required properties, each filled the same way.
 */
export function sampleOf(schema: unknown): unknown {
  if (typeof schema !== "object" || schema === null) return null;
  const s = schema as Record<string, unknown>;
  if ("default" in s) return s.default;
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case "object": {
      const properties = (typeof s.properties === "object" && s.properties !== null ? s.properties : {}) as Record<string, unknown>;
      const required = Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === "string") : [];
      return Object.fromEntries(required.map((name) => [name, sampleOf(properties[name] ?? {})]));
    }
    case "array":
      return typeof s.minItems === "number" && s.minItems > 0 ? Array.from({ length: s.minItems }, () => sampleOf(s.items)) : [];
    case "string":
      return "example";
    case "integer":
    case "number":
      return typeof s.minimum === "number" ? s.minimum : 0;
    case "boolean":
      return false;
    default:
      return null;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

const abortError = (signal: AbortSignal) =>
  signal.reason instanceof AppError ? signal.reason : new AppError("api_error", "Request aborted", { cause: signal.reason });
