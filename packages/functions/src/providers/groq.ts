import Groq from "groq-sdk";
import type { ChatCompletionChunk } from "groq-sdk/resources/chat/completions";
import { AppError, modelTraits, type CompletionEvent, type CompletionRequest, type Config, type ModelProvider, type TextAnswer } from "@conversation-api/core";
import { isRateLimited, toAppError } from "./groq-errors";
import { groqModelCatalog } from "./groq-models";
import { ExecutedToolReader, withServerTools } from "./groq-server-tools";
import { ToolCallReader, groqMessages, groqToolParams } from "./groq-tools";
import { nextWait, retryAfterMs, sleep, type RetryPolicy } from "./retry";
import { bodyOf, SseChunkReader } from "./sse-chunks";

type GroqSettings = Pick<
  Config,
  "GROQ_API_KEY" | "GROQ_BASE_URL" | "GROQ_MAX_RETRIES" | "GROQ_MAX_RETRY_WAIT_MS" | "DEFAULT_MODEL" | "ALLOWED_MODELS" | "MODEL_LIST_TTL_S"
>;

/**
 * The production model provider: Groq's OpenAI-compatible streaming API through groq-sdk. Creating it
 * starts the first read of Groq's model list (its `catalog`), off the request path.
 */
export function createGroqProvider(config: GroqSettings): ModelProvider {
  const client = new Groq({
    apiKey: config.GROQ_API_KEY,
    ...(config.GROQ_BASE_URL ? { baseURL: config.GROQ_BASE_URL } : {}),
    // Retries are ours (below): the SDK's would also retry 5xx and ignore our total-wait budget.
    maxRetries: 0,
  });
  const policy: RetryPolicy = { maxRetries: config.GROQ_MAX_RETRIES, maxWaitMs: config.GROQ_MAX_RETRY_WAIT_MS };
  return {
    name: "groq",
    catalog: groqModelCatalog(client, config),
    modelLabel: (model) => model,
    complete: (req) => groqStream(client, policy, req),
    completeText: (req) => groqOnce(client, req),
  };
}

/**
 * One short non-streaming answer (a title). No retries: whoever asks can do without it. A reasoning
 * model's thinking is left out of the response (`include_reasoning: false`); it still counts against
 * the output limit, which the caller sizes for that.
 */
async function groqOnce(client: Groq, req: Omit<CompletionRequest, "onAccepted" | "temperature">): Promise<TextAnswer> {
  const reasoningParams = modelTraits(req.model).reasoning
    ? { include_reasoning: false, ...(req.reasoning_effort !== undefined ? { reasoning_effort: req.reasoning_effort } : {}) }
    : {};
  try {
    const r = await client.chat.completions.create(
      {
        model: req.model,
        messages: groqMessages(req.messages),
        stream: false,
        max_completion_tokens: req.max_tokens,
        ...reasoningParams,
      },
      { signal: req.signal },
    );
    const text = r.choices[0]?.message.content ?? "";
    return r.usage ? { text, usage: { input_tokens: r.usage.prompt_tokens, output_tokens: r.usage.completion_tokens } } : { text };
  } catch (e) {
    if (req.signal.aborted) throw aborted(req.signal);
    throw toAppError(e, req.model);
  }
}

const FINISH: Record<string, "end_turn" | "max_tokens" | "tool_use"> = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use" };

/** Usage as Groq reports it: token counts plus its timings, in seconds, and the reasoning share of the output. */
type GroqUsage = Partial<Record<(typeof USAGE_FIELDS)[number], number>> & {
  completion_tokens_details?: { reasoning_tokens?: unknown } | null;
};
const USAGE_FIELDS = [
  "prompt_tokens",
  "completion_tokens",
  "total_tokens",
  "queue_time",
  "prompt_time",
  "completion_time",
  "total_time",
] as const;

/**
 * One reply. A 429 before any text is retried within the policy; once text has gone out nothing is
 * retried (the client already has it). The text event object is reused for every token to keep the hot
 * path free of allocations: a consumer must read `text` before asking for the next event.
 */
async function* groqStream(client: Groq, policy: RetryPolicy, req: CompletionRequest): AsyncGenerator<CompletionEvent> {
  const textEvent = { type: "text" as const, text: "" };
  const reasoningEvent = { type: "reasoning" as const, text: "" };
  // A reasoning model's thinking arrives in `delta.reasoning`: `include_reasoning: true` asks for that
  // field (Groq's default for gpt-oss; qwen3 would otherwise inline it in <think> tags in the content).
  const reasoningParams = modelTraits(req.model).reasoning
    ? { include_reasoning: true, ...(req.reasoning_effort !== undefined ? { reasoning_effort: req.reasoning_effort } : {}) }
    : {};
  let sentText = false;
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    let finish: string | null = null;
    let usage: GroqUsage | null = null;
    let usageSource: "x_groq" | "usage" | null = null;
    let requestId: string | null = null;
    const toolCalls = new ToolCallReader();
    const executed = new ExecutedToolReader(req.server_tools ?? []);
    try {
      // groq-sdk sends the request and turns an error status into its APIError; the body is ours to read.
      const response = await client.chat.completions
        .create(
          {
            model: req.model,
            messages: groqMessages(req.messages),
            stream: true,
            // groq-sdk marks `max_tokens` deprecated in favour of this.
            max_completion_tokens: req.max_tokens,
            ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
            ...(req.top_p !== undefined ? { top_p: req.top_p } : {}),
            ...(req.stop !== undefined ? { stop: req.stop } : {}),
            ...reasoningParams,
            ...withServerTools(groqToolParams(req), req.server_tools),
          },
          { signal: req.signal },
        )
        .asResponse();
      req.onAccepted?.();
      // Read to the end of the body even after [DONE] (as groq-sdk does): a body left unread closes the
      // connection, and the next request would pay a new TLS handshake to Groq.
      const reader = new SseChunkReader(response.headers);
      for await (const bytes of bodyOf(response)) {
        const chunks = reader.feed(bytes);
        for (let i = 0; i < chunks.length; i++) {
          const chunk = chunks[i]!;
          const choice = chunk.choices[0];
          if (choice !== undefined) {
            const thought = choice.delta.reasoning;
            if (thought) {
              sentText = true;
              reasoningEvent.text = thought;
              yield reasoningEvent;
            }
            const ran = choice.delta.executed_tools;
            if (ran) {
              for (const event of executed.read(ran)) {
                sentText = true;
                yield event;
              }
            }
            const text = choice.delta.content;
            if (text) {
              sentText = true;
              textEvent.text = text;
              yield textEvent;
            }
            const calls = choice.delta.tool_calls;
            if (calls) {
              for (const event of toolCalls.read(calls)) {
                sentText = true;
                yield event;
              }
            }
            if (choice.finish_reason) finish = choice.finish_reason;
          }
          // Only the first and the last chunk carry x_groq; an OpenAI-style usage chunk comes last.
          const xg = chunk.x_groq;
          if (xg != null) {
            if (xg.id) requestId = xg.id;
            if (xg.error) throw new AppError("api_error", "The model provider stopped the stream early", { status: 502, expose: true, cause: xg.error });
            if (xg.usage) [usage, usageSource] = [xg.usage as GroqUsage, "x_groq"];
          }
          const top = (chunk as ChatCompletionChunk & { usage?: GroqUsage | null }).usage;
          if (top) [usage, usageSource] = [top, "usage"];
        }
        if (reader.failure) throw reader.failure;
      }
    } catch (e) {
      // groq-sdk ends an aborted stream quietly or throws its own abort error; either way, say why.
      if (req.signal.aborted) throw aborted(req.signal);
      if (!sentText && isRateLimited(e)) {
        const wait = nextWait(policy, attempt, waited, retryAfterMs(e.headers));
        if (wait !== null) {
          waited += wait;
          await sleep(wait, req.signal).catch(() => Promise.reject(aborted(req.signal)));
          continue;
        }
      }
      throw toAppError(e, req.model);
    }
    if (req.signal.aborted) throw aborted(req.signal);
    // A connection closed cleanly without a finish reason is a cut stream, not an answer.
    if (finish === null) throw new AppError("api_error", "The model stream ended early", { status: 502, expose: true });
    yield* executed.rest();
    const metadata: Record<string, unknown> = { provider: "groq" };
    if (requestId) metadata.upstream_request_id = requestId;
    if (attempt > 0) metadata.retries = attempt;
    if (usage) {
      metadata.usage = pick(usage);
      metadata.usage_source = usageSource;
    }
    // Groq bills its built-in tools per use, apart from the tokens: the uses are kept beside them.
    const uses = executed.uses();
    if (uses) metadata.usage = { ...(metadata.usage as object | undefined), server_tool_use: uses };
    const input = usage?.prompt_tokens;
    const output = usage?.completion_tokens;
    const reasoningTokens = usage?.completion_tokens_details?.reasoning_tokens;
    yield {
      type: "finish",
      finish_reason: FINISH[finish] ?? "end_turn",
      usage:
        typeof input === "number" && typeof output === "number"
          ? {
              input_tokens: input,
              output_tokens: output,
              ...(typeof reasoningTokens === "number" ? { reasoning_tokens: reasoningTokens } : {}),
              ...(uses ? { server_tool_use: uses } : {}),
              estimated: false,
            }
          : null,
      metadata,
    };
    return;
  }
}

/** Copies only the known numeric fields, so nothing unexpected from upstream lands in storage. */
function pick(u: GroqUsage): GroqUsage {
  const out: GroqUsage = {};
  for (const k of USAGE_FIELDS) if (typeof u[k] === "number") out[k] = u[k];
  return out;
}

const aborted = (signal: AbortSignal) =>
  signal.reason instanceof AppError ? signal.reason : new AppError("api_error", "Request aborted", { cause: signal.reason });
