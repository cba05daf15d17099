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
      message: { role: "assistant" as const, content: c.text, ...(c.thinking ? { reasoning: c.thinking } : {}) },
      finish_reason: openaiFinishReason(c.stop_reason),
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: c.input_tokens, completion_tokens: c.output_tokens, total_tokens: c.input_tokens + c.output_tokens },
});
