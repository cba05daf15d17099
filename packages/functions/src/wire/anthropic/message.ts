// A reply read to its end as Anthropic's `message` object (the non-streamed answer).
import { inputObject, type Collected } from "../collect";
import { anthropicStopReason } from "./encode";

export const anthropicMessage = (c: Collected) => ({
  id: c.id,
  type: "message" as const,
  role: "assistant" as const,
  model: c.model,
  content: [
    // Reasoning is shown, never signed: there is no signature to check it against.
    ...(c.thinking ? [{ type: "thinking" as const, thinking: c.thinking, signature: "" }] : []),
    // A reply that only calls tools has no text block, as Anthropic answers it.
    ...(c.text || !c.tool_calls.length ? [{ type: "text" as const, text: c.text }] : []),
    ...c.tool_calls.map((t) => ({ type: "tool_use" as const, id: t.id, name: t.name, input: inputObject(t.input) })),
  ],
  stop_reason: anthropicStopReason(c.stop_reason),
  stop_sequence: null,
  usage: { input_tokens: c.input_tokens, output_tokens: c.output_tokens },
});
