import Groq from "groq-sdk";
import { AppError, type CompletionEvent, type CompletionRequest, type Config, type ModelProvider } from "@conversation-api/core";

/** The production model provider: Groq's OpenAI-compatible streaming API through groq-sdk. */
export function createGroqProvider(config: Pick<Config, "GROQ_API_KEY" | "GROQ_BASE_URL">): ModelProvider {
  const client = new Groq({
    apiKey: config.GROQ_API_KEY,
    ...(config.GROQ_BASE_URL ? { baseURL: config.GROQ_BASE_URL } : {}),
    maxRetries: 0,
  });
  return {
    name: "groq",
    modelLabel: (model) => model,
    complete: (req) => groqStream(client, req),
  };
}

const FINISH: Record<string, "end_turn" | "max_tokens"> = { stop: "end_turn", length: "max_tokens" };

async function* groqStream(client: Groq, req: CompletionRequest): AsyncGenerator<CompletionEvent> {
  let stream;
  try {
    stream = await client.chat.completions.create(
      {
        model: req.model,
        messages: req.messages,
        stream: true,
        ...(req.max_tokens !== undefined ? { max_tokens: req.max_tokens } : {}),
        ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
      },
      { signal: req.signal },
    );
  } catch (e) {
    throw upstreamError(e);
  }
  let finish: string | null = null;
  let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
  const metadata: Record<string, unknown> = { provider: "groq" };
  try {
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      const text = choice?.delta?.content;
      if (text) yield { type: "text", text };
      if (choice?.finish_reason) finish = choice.finish_reason;
      const xg = chunk.x_groq as { id?: string; usage?: typeof usage } | undefined;
      if (xg?.id) metadata.upstream_request_id = xg.id;
      if (xg?.usage) usage = xg.usage;
    }
  } catch (e) {
    throw upstreamError(e);
  }
  yield {
    type: "finish",
    finish_reason: FINISH[finish ?? "stop"] ?? "end_turn",
    usage: usage
      ? { input_tokens: usage.prompt_tokens ?? 0, output_tokens: usage.completion_tokens ?? 0, estimated: false }
      : null,
    metadata,
  };
}

function upstreamError(e: unknown): AppError {
  if (e instanceof Groq.APIError) {
    const status = e.status ?? 0;
    if (status === 429) return new AppError("rate_limit_error", "The model provider is rate limiting requests", { status: 429, expose: true, cause: e });
    if (status === 401 || status === 403)
      return new AppError("api_error", "The model provider rejected the server's credentials", { cause: e });
    if (status === 503) return new AppError("overloaded_error", "Upstream model is overloaded", { expose: true, cause: e });
    if (status >= 500) return new AppError("api_error", "The model provider failed", { status: 502, expose: true, cause: e });
  }
  return new AppError("api_error", "Lost the connection to the model provider", { status: 502, expose: true, cause: e });
}
