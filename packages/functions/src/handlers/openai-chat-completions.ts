import { streamHandler } from "../http";
import { startWireReply, withMessageId } from "../wire/bound";
import { collectReply } from "../wire/collect";
import { openaiCompletion } from "../wire/openai/completion";
import { openaiCall } from "../wire/openai/decode";
import { openaiEncoder } from "../wire/openai/encode";
import { openaiErrors } from "../wire/openai/errors";
import { OpenAIChatChunk, OpenAIChatCompletion, OpenAIChatRequest, OpenAIHeaders } from "../wire/openai/schemas";
import { SSE_HEADERS, jsonStreamBody } from "../wire/sse";
import { urlGroup } from "../wire/url-group";
import { handler as models } from "./openai-models";

const completions = streamHandler(
  "openai-chat-completions",
  {
    summary:
      "OpenAI Chat Completions: a reply to the messages given, streamed (`stream: true`, chat.completion.chunk events) or as one chat.completion; stores nothing but its usage unless x-conversation-id binds it to a conversation",
    body: OpenAIChatRequest,
    headers: OpenAIHeaders,
    response: OpenAIChatCompletion,
    representations: { "text/event-stream": OpenAIChatChunk },
    errors: [403, 404, 409, 429, 503],
    errorFormat: openaiErrors,
  },
  async (input) => {
    const { body, headers, context } = input;
    const call = openaiCall(body, { receivedAt: context.receivedAt, remainingMs: context.getRemainingTimeInMillis?.() });
    const started = await startWireReply(input, call, headers["x-conversation-id"] ?? null);
    const out = started.headers;
    const reply = out["x-conversation-id"] ? withMessageId(started.reply, (id) => (out["x-message-id"] = id)) : started.reply;
    if (body.stream) {
      const encode = openaiEncoder({ includeUsage: body.stream_options?.include_usage === true });
      return { headers: Object.assign(out, SSE_HEADERS), run: (write, signal, end) => reply.run((e) => write(encode(e)), signal, end) };
    }
    // Lambda never reports a client that left: a non-streamed reply always runs to its end.
    const collected = await collectReply(reply, new AbortController().signal);
    return jsonStreamBody(openaiCompletion(collected), out);
  },
);

export const handler = urlGroup(completions, [models]);
