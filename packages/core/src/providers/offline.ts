import { AppError } from "../errors";
import type { CompletionEvent, CompletionRequest, ModelProvider } from "../ports";
import { estimateTokens } from "../chat/prompt";
import { reasons } from "../models";

export const OFFLINE_MODEL = "offline-echo";

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
    modelLabel: () => OFFLINE_MODEL,
    complete: (req) => offlineStream(req, opts.tokenDelayMs),
  };
}

async function* offlineStream(req: CompletionRequest, delayMs: number): AsyncGenerator<CompletionEvent> {
  const last = req.messages.at(-1)?.content ?? "";
  const quoted = last.length > 200 ? `${last.slice(0, 200)}…` : last;
  const thinking = reasons(req.model, req.reasoning_effort)
    ? `(Offline: no model is thinking here.) ${req.model} would reason about the message first, and its thoughts would stream here, apart from the answer.`
    : "";
  const reply = `This is the offline model: set GROQ_API_KEY to talk to ${req.model}. You said: "${quoted}"`;
  const words = [
    ...split(thinking).map((text) => ({ type: "reasoning" as const, text })),
    ...split(reply).map((text) => ({ type: "text" as const, text })),
  ];
  const limit = req.max_tokens ?? Number.MAX_SAFE_INTEGER;
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
    finish_reason: sent < words.length ? "max_tokens" : "end_turn",
    usage: { input_tokens: input, output_tokens: sent, estimated: true },
    metadata: { provider: "offline" },
  };
}

const split = (text: string) => (text ? text.split(/(?<= )/) : []);

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
