import { streamHandler } from "../http";
import { collectReply } from "../wire/collect";
import { startWireReply, withMessageId } from "../wire/bound";
import { anthropicCall } from "../wire/anthropic/call";
import { encodeAnthropic } from "../wire/anthropic/encode";
import { anthropicErrors } from "../wire/anthropic/errors";
import { anthropicMessage } from "../wire/anthropic/message";
import { AnthropicHeaders, AnthropicMessage, AnthropicMessagesRequest, AnthropicStreamEvent } from "../wire/anthropic/schemas";
import { SSE_HEADERS, jsonStreamBody } from "../wire/sse";
import { urlGroup } from "../wire/url-group";
import { handler as countTokens } from "./anthropic-count-tokens";
import { handler as models } from "./anthropic-models";

const messages = streamHandler(
  "anthropic-messages",
  {
    summary:
      "Anthropic Messages: a reply to the messages given, streamed (`stream: true`, Anthropic's event stream) or as one message; stores nothing but its usage unless x-conversation-id binds it to a conversation",
    body: AnthropicMessagesRequest,
    headers: AnthropicHeaders,
    response: AnthropicMessage,
    representations: { "text/event-stream": AnthropicStreamEvent },
    errors: [403, 404, 409, 429, 529],
    errorFormat: anthropicErrors,
  },
  async (input) => {
    const { body, headers } = input;
    const call = await anthropicCall(input, body);
    const started = await startWireReply(input, call, headers["x-conversation-id"] ?? null);
    const out = started.headers;
    const reply = out["x-conversation-id"] ? withMessageId(started.reply, (id) => (out["x-message-id"] = id)) : started.reply;
    if (body.stream) return { headers: Object.assign(out, SSE_HEADERS), run: (write, signal, end) => reply.run((e) => write(encodeAnthropic(e)), signal, end) };
    // Lambda never reports a client that left: a non-streamed reply always runs to its end.
    const collected = await collectReply(reply, new AbortController().signal);
    return jsonStreamBody(anthropicMessage(collected), out);
  },
);

export const handler = urlGroup(messages, [countTokens, models]);
