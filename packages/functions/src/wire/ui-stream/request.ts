// What DefaultChatTransport sends (ai@6, HttpChatTransport.sendMessages): `{id, messages, trigger,
// messageId}` plus whatever its `body` option adds; we read the send's options from there (model,
// reasoning_effort, max_tokens, temperature, tools, tool_choice). The server keeps the history, so of
// `messages` only the last one is read (the new user message), and for an edit the id of the one
// before it. When the last message is the assistant's, the client is sending its tools' outputs back
// (useChat's addToolOutput): the tool parts of that message's last step become tool_result blocks.
import { AppError, StreamRequest, type RegenerateRequest, type ToolResultBlock } from "@conversation-api/core";
import { v5 as uuidV5, validate as isUuid } from "uuid";
import * as z from "zod";

const MAX_CONTENT = 32_000;

export const ChatId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, "1 to 128 visible ASCII characters")
  .describe(
    "The chat's id, as useChat names it. A UUID is the conversation's own id (an existing conversation of yours, or a new one created with it); any other id names a conversation of yours created on first use",
  );

const UIPart = z.looseObject({ type: z.string().min(1).max(100) });

const UIMessage = z
  .looseObject({
    id: z.string().max(200),
    role: z.enum(["system", "user", "assistant"]),
    parts: z.array(UIPart).max(10_000),
  })
  .describe("A UIMessage as useChat holds it; parts other than text are read only where noted");

const options = StreamRequest.pick({ model: true, reasoning_effort: true, max_tokens: true, temperature: true, tools: true, tool_choice: true }).shape;

type Part = z.infer<typeof UIPart>;

const textOf = (parts: Part[]) => parts.map((p) => (p.type === "text" && typeof p.text === "string" ? p.text : "")).join("");

/** A tool invocation part: `tool-{name}` for the tools the client typed, `dynamic-tool` for the rest. */
const isToolPart = (p: Part) => p.type.startsWith("tool-") || p.type === "dynamic-tool";

/** The parts of a message's last step: after its last step-start (a step is one reply). */
const lastStep = (parts: Part[]) => parts.slice(parts.findLastIndex((p) => p.type === "step-start") + 1);

/** Why a tool part of the last step cannot go back as a result, or null when it can. */
function toolPartProblem(p: Part): string | null {
  if (typeof p.toolCallId !== "string" || p.toolCallId === "") return "needs its toolCallId";
  if (p.state === "output-available") return p.output === undefined ? "needs its output" : null;
  if (p.state === "output-error") return typeof p.errorText === "string" ? null : "needs its errorText";
  return `is in state "${String(p.state)}": every tool call needs its output (output-available or output-error) before the chat continues`;
}

/** A tool part's output as a tool_result: text as it is, anything else as its JSON. */
function resultOf(p: Part): ToolResultBlock {
  const id = p.toolCallId as string;
  if (p.state === "output-error") return { type: "tool_result", tool_use_id: id, content: p.errorText as string, is_error: true };
  return { type: "tool_result", tool_use_id: id, content: typeof p.output === "string" ? p.output : JSON.stringify(p.output) };
}

export const ChatRequest = z
  .object({
    id: ChatId,
    messages: z
      .array(UIMessage)
      .min(1)
      .max(100_000)
      .describe("The chat as the client holds it. submit-message sends the last message, which must be a user message of text parts; the rest is history the server already has"),
    trigger: z.enum(["submit-message", "regenerate-message"]),
    messageId: z
      .string()
      .max(200)
      .optional()
      .describe(
        "submit-message: the user message being edited (the send then branches from the message before it, which must be one this API sent). regenerate-message: the assistant message to answer again (without it, the conversation's last reply)",
      ),
    ...options,
  })
  .superRefine((body, ctx) => {
    if (body.trigger !== "submit-message") return;
    const n = body.messages.length - 1;
    const last = body.messages[n];
    if (!last) return; // the list's own minimum names it
    if (last.role === "assistant") {
      const offset = last.parts.length - lastStep(last.parts).length;
      const tools = lastStep(last.parts).filter(isToolPart);
      if (!tools.length)
        ctx.addIssue({ code: "custom", path: ["messages", n, "role"], message: 'must be "user", or the assistant\'s holding its tool calls\' outputs: submit-message sends the last message' });
      last.parts.forEach((p, i) => {
        const problem = i >= offset && isToolPart(p) ? toolPartProblem(p) : null;
        if (problem) ctx.addIssue({ code: "custom", path: ["messages", n, "parts", i], message: `the tool part ${problem}` });
      });
      return;
    }
    if (last.role !== "user") {
      ctx.addIssue({ code: "custom", path: ["messages", n, "role"], message: 'must be "user" (or the assistant\'s, with its tools\' outputs): submit-message sends the last message' });
      return;
    }
    last.parts.forEach((p, i) => {
      if (p.type !== "text") ctx.addIssue({ code: "custom", path: ["messages", n, "parts", i, "type"], message: 'must be "text": only text is sent to the model' });
      else if (typeof p.text !== "string") ctx.addIssue({ code: "custom", path: ["messages", n, "parts", i, "text"], message: "must be a string" });
    });
    const text = textOf(last.parts);
    if (text.trim() === "") ctx.addIssue({ code: "custom", path: ["messages", n, "parts"], message: "must hold the message's text" });
    else if (text.length > MAX_CONTENT) ctx.addIssue({ code: "custom", path: ["messages", n, "parts"], message: `the text must be at most ${MAX_CONTENT} characters` });
  });
export type ChatRequest = z.infer<typeof ChatRequest>;

export const ChatParams = z.object({ id: ChatId });

// Names the conversations of chat ids that are not UUIDs. Derived from the caller's id too, so two
// users' chats named alike are two conversations, and no one reaches another's by naming it.
const CHAT_NAMESPACE = "5b1d7b52-2c1e-4f8e-9a57-1f0d6c3c7e21";

/** The conversation a chat id names for this user. */
export const conversationIdOf = (userId: string, chatId: string): string =>
  isUuid(chatId) ? chatId.toLowerCase() : uuidV5(`${userId}\n${chatId}`, CHAT_NAMESPACE);

export type ChatTurn =
  | { kind: "send"; content: string; parentId?: string | null }
  /** The outputs of the tools the conversation's last reply called, sent back: the reply continues. */
  | { kind: "results"; content: ToolResultBlock[] }
  /** `of`: the assistant message to answer again; null for the conversation's last reply. */
  | { kind: "regenerate"; of: string | null };

/** The turn a (validated) body asks for. */
export function chatTurnOf(body: ChatRequest): ChatTurn {
  if (body.trigger === "regenerate-message")
    return { kind: "regenerate", of: body.messageId !== undefined && isUuid(body.messageId) ? body.messageId.toLowerCase() : null };
  const n = body.messages.length - 1;
  const last = body.messages[n]!;
  if (last.role === "assistant") return { kind: "results", content: lastStep(last.parts).filter(isToolPart).map(resultOf) };
  const content = textOf(last.parts);
  if (body.messageId === undefined) return { kind: "send", content };
  // An edit: the new text follows the message before the edited one, as a new branch.
  const before = body.messages[n - 1];
  if (!before) return { kind: "send", content, parentId: null };
  if (!isUuid(before.id))
    throw new AppError("validation_error", `Request validation failed: body.messages.${n - 1}.id: an edit branches from the message before it, which must be one this API sent`, {
      fields: [{ path: `body.messages.${n - 1}.id`, message: "must be the id of a stored message (an edit branches from it)" }],
    });
  return { kind: "send", content, parentId: before.id.toLowerCase() };
}

/** The send's options, as the transport's `body` option adds them (absent ones left out). */
export const optionsOf = (body: ChatRequest): RegenerateRequest => ({
  ...(body.model !== undefined && { model: body.model }),
  ...(body.reasoning_effort !== undefined && { reasoning_effort: body.reasoning_effort }),
  ...(body.max_tokens !== undefined && { max_tokens: body.max_tokens }),
  ...(body.temperature !== undefined && { temperature: body.temperature }),
  ...(body.tools !== undefined && { tools: body.tools }),
  ...(body.tool_choice !== undefined && { tool_choice: body.tool_choice }),
});
