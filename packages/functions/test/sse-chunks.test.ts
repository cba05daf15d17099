// The Groq stream reader on real bytes: events split anywhere (inside JSON, inside a multi-byte
// character), `[DONE]`, and the two ways Groq reports an error inside a 200 stream.
import Groq from "groq-sdk";
import { describe, expect, it } from "vitest";
import { sseChunks } from "../src/providers/sse-chunks";

const chunk = (content: string) => ({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: null }] });

/** A Response whose body arrives in the given pieces of bytes. */
function responseOf(text: string, cut: number[]): Response {
  const bytes = new TextEncoder().encode(text);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cut, bytes.length]) {
    pieces.push(bytes.subarray(at, c));
    at = c;
  }
  return new Response(new ReadableStream({ start: (ctl) => (pieces.forEach((p) => ctl.enqueue(p)), ctl.close()) }));
}

const read = async (r: Response) => {
  const out: string[] = [];
  for await (const c of sseChunks(r)) out.push(c.choices[0]!.delta.content!);
  return out;
};

describe("sseChunks", () => {
  it("yields every chunk however the bytes are cut, and stops at [DONE]", async () => {
    const text = `data: ${JSON.stringify(chunk("Olá "))}\n\ndata: ${JSON.stringify(chunk("wörld"))}\n\ndata: [DONE]\n\ndata: ${JSON.stringify(chunk("after"))}\n\n`;
    const utf8 = new TextEncoder().encode(text);
    // Every single cut point, including inside "á" and "ö" (two bytes each).
    for (let cut = 1; cut < utf8.length; cut += 7) expect(await read(responseOf(text, [cut]))).toEqual(["Olá ", "wörld"]);
    expect(await read(responseOf(text, Array.from({ length: utf8.length - 1 }, (_, i) => i + 1)))).toEqual(["Olá ", "wörld"]);
  });

  it("turns a chunk with `error` and an `event: error` message into the SDK's APIError", async () => {
    const inData = `data: ${JSON.stringify(chunk("Hi"))}\n\ndata: {"error":{"message":"Rate limit reached","type":"rate_limit_error"}}\n\n`;
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const c of sseChunks(responseOf(inData, [10]))) seen.push(c.choices[0]!.delta.content!);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(["Hi"]);
    expect(failure).toBeInstanceOf(Groq.APIError);
    expect((failure as InstanceType<typeof Groq.APIError>).error).toMatchObject({ type: "rate_limit_error" });

    const asEvent = `event: error\ndata: {"error":{"type":"internal_server_error"},"message":"boom"}\n\n`;
    await expect(read(responseOf(asEvent, []))).rejects.toBeInstanceOf(Groq.APIError);
  });
});
