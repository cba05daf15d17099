// A reply read to its end as OpenAI's chat.completion object (the non-streamed answer).
import type { Collected } from "../collect";
import { completionId, openaiFinishReason } from "./encode";

export const openaiCompletion = (c: Collected) => ({
  id: completionId(c.id),
  object: "chat.completion" as const,
  created: Math.floor(Date.now() / 1000),
  model: c.model,
  choices: [
    {
      index: 0,
      message: {
        role: "assistant" as const,
        // OpenAI's null: a reply that only calls tools has no content.
        content: c.text === "" && c.tool_calls.length ? null : c.text,
        ...(c.thinking ? { reasoning: c.thinking } : {}),
        ...(c.tool_calls.length && {
          tool_calls: c.tool_calls.map((t) => ({ id: t.id, type: "function" as const, function: { name: t.name, arguments: t.input } })),
        }),
      },
      finish_reason: openaiFinishReason(c.stop_reason),
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: c.input_tokens, completion_tokens: c.output_tokens, total_tokens: c.input_tokens + c.output_tokens },
});
