// The SSE encoder against the stream's bytes as clients parse them (tests/e2e, the playground, the
// Anthropic SDK): the frames below are the exact text the stream carries for these calls.
import { PING, ReplyEvents, type Position, type ReplyEvent } from "@conversation-api/core";
import { describe, expect, it } from "vitest";
import { encodeSse } from "../src/wire/sse";

const info = {
  id: "0b8a3c1e-1d2f-4a5b-8c9d-0e1f2a3b4c5d",
  conversation_id: "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7",
  model: "openai/gpt-oss-20b",
  input_tokens: 42,
};
const TRICKY = 'Say "hi"\n\t\\ \u2028 </script> 😀';

/** Drives a reply's events through the encoder, as the streaming handlers do. */
function encode(after: Position | null, calls: (ev: ReplyEvents) => void): string {
  let out = "";
  calls(new ReplyEvents((e) => (out += encodeSse(e)), after));
  return out;
}

const reasoned = (ev: ReplyEvents) => {
  ev.start(info);
  ev.reasoning("ab");
  ev.reasoning("cdé");
  ev.text(TRICKY);
  ev.text("more");
  ev.finish("end_turn", 12);
};

describe("encodeSse", () => {
  it("writes a reasoning reply as the stream's frames: ids, names and payloads byte for byte", () => {
    expect(encode(null, reasoned)).toBe(
      [
        'id: 1\nevent: message_start\ndata: {"type":"message_start","message":{"id":"0b8a3c1e-1d2f-4a5b-8c9d-0e1f2a3b4c5d","type":"message","role":"assistant","conversation_id":"7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7","model":"openai/gpt-oss-20b","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":42,"output_tokens":0}}}\n\n',
        'id: 2\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}\n\n',
        'id: 18\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"ab"}}\n\n',
        'id: 42\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"cdé"}}\n\n',
        'id: 43\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
        'id: 44\nevent: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}\n\n',
        'id: 252\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Say \\"hi\\"\\n\\t\\\\ \u2028 </script> 😀"}}\n\n',
        'id: 284\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"more"}}\n\n',
        'id: 285\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n',
        'id: 286\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":12}}\n\n',
        'id: 287\nevent: message_stop\ndata: {"type":"message_stop"}\n\n',
      ].join(""),
    );
  });

  it("resumes inside a delta with the rest of it, under the same ids", () => {
    // Position 3 chars, 2 steps: the client holds "abc" of the thinking and is inside its second delta.
    expect(encode({ chars: 3, steps: 2 }, reasoned)).toBe(
      [
        'id: 42\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"dé"}}\n\n',
        'id: 43\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
        'id: 44\nevent: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}\n\n',
        'id: 252\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Say \\"hi\\"\\n\\t\\\\ \u2028 </script> 😀"}}\n\n',
        'id: 284\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"more"}}\n\n',
        'id: 285\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n',
        'id: 286\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":12}}\n\n',
        'id: 287\nevent: message_stop\ndata: {"type":"message_stop"}\n\n',
      ].join(""),
    );
  });

  it("ends a failed reply with an error event without an id, and nothing after it", () => {
    const out = encode(null, (ev) => {
      ev.start(info);
      ev.text("x");
      ev.error("api_error", "The reply failed");
      ev.text("late");
    });
    expect(out.slice(out.indexOf("id: 10\n"))).toBe(
      [
        'id: 10\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}\n\n',
        'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"The reply failed"}}\n\n',
      ].join(""),
    );
  });

  it("closes an empty reply's text block, and writes a ping as an event without an id", () => {
    const out = encode(null, (ev) => {
      ev.start(info);
      ev.finish("cancelled", 0);
    });
    expect(out.slice(out.indexOf("id: 2\n"))).toBe(
      [
        'id: 2\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
        'id: 3\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
        'id: 4\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"cancelled","stop_sequence":null},"usage":{"output_tokens":0}}\n\n',
        'id: 5\nevent: message_stop\ndata: {"type":"message_stop"}\n\n',
      ].join(""),
    );
    expect(encodeSse(PING)).toBe('event: ping\ndata: {"type":"ping"}\n\n');
  });

  it("writes a delta's template exactly as serialising its payload would", () => {
    const pairs: [string, string][] = [];
    const generic = (e: ReplyEvent) => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;
    const ev = new ReplyEvents((e) => {
      if (e.type === "content_block_delta") pairs.push([encodeSse(e), generic(e)]);
    });
    const pieces = ["plain", TRICKY, "\ud83d", "\u0000\u001f\u007f", "é"];
    ev.start(info);
    for (const piece of pieces) ev.reasoning(piece);
    for (const piece of pieces) ev.text(piece);
    expect(pairs).toHaveLength(2 * pieces.length);
    for (const [fast, slow] of pairs) expect(fast).toBe(slow);
  });
});
