import { IdParams, StreamHeaders, StreamRequest, startReply } from "@conversation-api/core";
import { streamHandler } from "../http";
import { replyDeps } from "../reply-deps";
import { sseBody } from "../wire/sse";

// Swagger UI's "Try it out" starts from these: a tool send, then its result (the offline model calls the tool).
const GET_TIME = {
  name: "get_time",
  description: "The current time in an IANA time zone",
  input_schema: { type: "object", properties: { timezone: { type: "string" } }, required: ["timezone"] },
};

export const handler = streamHandler(
  "messages-stream",
  {
    summary:
      "Send a message and stream the reply as Server-Sent Events (409 with reply_id while another reply of the conversation streams; parent_id starts a branch)",
    params: IdParams,
    body: StreamRequest,
    headers: StreamHeaders,
    errors: [409, 429],
    examples: {
      text: { summary: "A message", value: { content: "Hello!" } },
      tool: {
        summary: "Offer a tool (the reply may call it and end with stop_reason tool_use)",
        value: {
          content: "What time is it in Tokyo?",
          tools: [GET_TIME],
        },
      },
      tool_result: {
        summary: "Answer the call (tool_use_id: the id in the reply's tool_use block)",
        value: {
          content: [{ type: "tool_result", tool_use_id: "toolu_offline_0123456789abcdef", content: "10:42 JST" }],
          tools: [GET_TIME],
        },
      },
    },
  },
  async ({ deps, userId, params, body, headers, context }) => {
    const key = headers["idempotency-key"] ?? null;
    const reply = await startReply(
      replyDeps(deps, userId, context.requestId, params.id),
      {
        kind: "send",
        conversationId: params.id,
        body,
        idempotencyKey: key,
        receivedAt: context.receivedAt,
        remainingMs: context.getRemainingTimeInMillis?.(),
      },
    );
    return sseBody(reply);
  },
);
