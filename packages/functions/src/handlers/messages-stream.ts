import { Readable } from "node:stream";
import { AppError, IdParams, StreamRequest, startReply } from "@conversation-api/core";
import { streamHandler } from "../http";
import { pathOf } from "../routes";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export const handler = streamHandler(
  {
    summary: "Send a message and stream the reply as Server-Sent Events",
    auth: true,
    params: IdParams,
    path: pathOf("messages-stream"),
    body: StreamRequest,
    errors: [409, 429],
  },
  async ({ deps, userId, params, body, event, context }) => {
    const key = event.headers?.["idempotency-key"] ?? null;
    if (key !== null && !IDEMPOTENCY_KEY.test(key))
      throw new AppError("validation_error", "Invalid Idempotency-Key header", {
        fields: [{ path: "header.idempotency-key", message: "1 to 255 visible ASCII characters" }],
      });
    const reply = await startReply(
      { store: deps.store.forUser(userId), provider: deps.provider, settings: deps.config },
      { conversationId: params.id, body, idempotencyKey: key, receivedAt: context.receivedAt },
    );

    const clientGone = new AbortController();
    let finished: Promise<unknown> = Promise.resolve();
    const out = new Readable({
      read() {},
      // The runtime destroys the body when the client disconnects. Hold the destroy until the partial
      // reply is stored: the invocation must not end (and the container freeze) before that write.
      destroy(err, callback) {
        clientGone.abort();
        finished.then(() => callback(err), callback);
      },
    });
    finished = reply.run((chunk) => out.push(chunk), clientGone.signal).finally(() => out.push(null));
    return {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
      body: out,
    };
  },
);
