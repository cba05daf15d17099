// The AI SDK's own client, as a useChat app uses it: DefaultChatTransport pointed at /api/v1/chat,
// its streams read with readUIMessageStream into UIMessage states. Shared by the offline and the
// loopback-Groq suites.
import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";

export function transportFor(api: string, token: string): DefaultChatTransport<UIMessage> {
  return new DefaultChatTransport({ api: `${api}/chat`, headers: { authorization: `Bearer ${token}` } });
}

let n = 0;
export const userMessage = (text: string): UIMessage => ({ id: `u${++n}`, role: "user", parts: [{ type: "text", text }] });

/** What sendMessages asks for a new user message, as useChat's sendMessage does. */
export function send(transport: DefaultChatTransport<UIMessage>, chatId: string, messages: UIMessage[], extra: { body?: object } = {}) {
  return transport.sendMessages({ chatId, messages, trigger: "submit-message", messageId: undefined, abortSignal: undefined, ...extra });
}

export interface Read {
  /** The message's last state. */
  message: UIMessage;
  /** Every chunk, in order (a tee of the stream). */
  chunks: UIMessageChunk[];
  /** What the stream's error parts said. */
  errors: string[];
}

/** Reads a whole UI message stream with readUIMessageStream; `onChunk` sees each chunk as it comes. */
export async function readAll(stream: ReadableStream<UIMessageChunk>, onChunk?: (chunk: UIMessageChunk, chunks: UIMessageChunk[]) => void): Promise<Read> {
  const chunks: UIMessageChunk[] = [];
  const errors: string[] = [];
  const tapped = stream.pipeThrough(
    new TransformStream<UIMessageChunk, UIMessageChunk>({
      transform(chunk, controller) {
        chunks.push(chunk);
        onChunk?.(chunk, chunks);
        controller.enqueue(chunk);
      },
    }),
  );
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream: tapped, onError: (e) => errors.push(String((e as Error).message ?? e)) })) message = m;
  if (!message) throw new Error("the stream produced no message");
  return { message, chunks, errors };
}

export const partsOf = (m: UIMessage) => m.parts.map((p) => ({ type: p.type, text: (p as { text?: string }).text, state: (p as { state?: string }).state }));

/** A stream being read: wait until its chunks so far satisfy a predicate, or for the whole read. */
export interface Reading {
  chunks: UIMessageChunk[];
  until(seen: (chunks: UIMessageChunk[]) => boolean, what: string): Promise<void>;
  done: Promise<Read>;
}

export function reading(stream: ReadableStream<UIMessageChunk>): Reading {
  const waiters = new Set<{ seen: (chunks: UIMessageChunk[]) => boolean; resolve: () => void }>();
  const check = (chunks: UIMessageChunk[]) => {
    for (const w of waiters) if (w.seen(chunks)) (waiters.delete(w), w.resolve());
  };
  const chunks: UIMessageChunk[] = [];
  const done = readAll(stream, (_, all) => {
    chunks.splice(0, chunks.length, ...all);
    check(all);
  });
  return {
    chunks,
    done,
    until: (seen, what) =>
      seen(chunks)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.add({ seen, resolve });
            done.then(
              () => reject(new Error(`the stream ended before ${what}`)),
              (e: unknown) => reject(e as Error),
            );
          }),
  };
}

export const deltasOf = (chunks: UIMessageChunk[], type: "text-delta" | "reasoning-delta" = "text-delta") =>
  chunks.filter((c) => c.type === type).map((c) => (c as { delta: string }).delta);
