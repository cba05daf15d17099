// The UI message stream's parts as this API writes them (encode.ts), for the API document. The
// encoder writes templates, not these schemas; tests read the stream with the AI SDK's own parser.
import * as z from "zod";

const id = z.string().describe("The part's id: the block's index (0, or 1 for the text after reasoning)");
const toolCallId = z.string().describe("The tool call's id (the stored tool_use block's); its result goes back under it");

export const UiMessagePart = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("start"),
    messageId: z.uuid().optional().describe("The stored assistant message's id; absent on a step, which continues the client's message"),
    messageMetadata: z.object({
      conversation_id: z.uuid(),
      model: z.string(),
      reply_id: z.uuid().optional().describe("On a step: the stored reply it streams (what cancel and resume name)"),
    }),
  }),
  z.object({ type: z.literal("reasoning-start"), id }),
  z.object({ type: z.literal("reasoning-delta"), id, delta: z.string() }),
  z.object({ type: z.literal("reasoning-end"), id }),
  z.object({ type: z.literal("text-start"), id }),
  z.object({ type: z.literal("text-delta"), id, delta: z.string() }),
  z.object({ type: z.literal("text-end"), id }),
  z.object({ type: z.literal("tool-input-start"), toolCallId, toolName: z.string() }),
  z.object({ type: z.literal("tool-input-delta"), toolCallId, inputTextDelta: z.string().describe("The next piece of the input's JSON text") }),
  z.object({ type: z.literal("tool-input-available"), toolCallId, toolName: z.string(), input: z.unknown().describe("The tool's input, parsed") }),
  z.object({
    type: z.literal("tool-input-error"),
    toolCallId,
    toolName: z.string(),
    input: z.string().describe("The input's text as far as it came"),
    errorText: z.string(),
  }),
  z.object({ type: z.literal("start-step") }).describe("Opens a reply that continues a tool loop (the next step of the same assistant message)"),
  z.object({ type: z.literal("finish-step") }),
  z.object({
    type: z.literal("finish"),
    finishReason: z.enum(["stop", "length", "tool-calls", "other"]).describe("end_turn → stop, max_tokens → length, tool_use → tool-calls, cancelled → other"),
    messageMetadata: z.object({ stop_reason: z.enum(["end_turn", "max_tokens", "tool_use", "cancelled"]), output_tokens: z.number().int() }),
  }),
  z.object({ type: z.literal("error"), errorText: z.string() }),
]);

export const UI_STREAM_DESCRIPTION = [
  "The AI SDK's UI message stream (what `useChat` and `DefaultChatTransport` read), under the header",
  "`x-vercel-ai-ui-message-stream: v1`: SSE whose `data:` lines are JSON parts, in this order:",
  "",
  "1. `start` (`messageId`: the stored assistant message; `messageMetadata.conversation_id`)",
  "2. with a reasoning model: `reasoning-start`, `reasoning-delta`s, `reasoning-end`",
  "3. `text-start`, `text-delta`s, `text-end`",
  "4. with tools offered (`tools` in the body): for each call the model makes, `tool-input-start`, `tool-input-delta`s,",
  "   `tool-input-available` (the parsed input); the finish reason is then `tool-calls`",
  "5. `finish`, then `data: [DONE]`",
  "",
  "The client runs the tools and sends their outputs back (useChat's addToolOutput: the assistant message's tool parts",
  "in state `output-available` or `output-error`); that reply is the message's next step: its `start` has no",
  "`messageId` (the message keeps its id) and names the stored reply in `messageMetadata.reply_id`, `start-step`",
  "follows it, and `finish-step` comes before `finish`.",
  "",
  "A failure after the stream started closes the open part and sends an `error` part, then `[DONE]`.",
  "`: keep-alive` comments may come at any time. The reply does not stop when the client disconnects",
  "(on Lambda nothing can tell): stop it with `POST …/conversations/{conversation_id}/messages/{messageId}/cancel`.",
  "Errors before the stream starts are ordinary JSON responses.",
].join("\n");
