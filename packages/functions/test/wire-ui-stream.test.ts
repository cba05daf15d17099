// The UI message stream encoder against the bytes the AI SDK's parser reads (ai@6: `data: {json}`
// lines, `data: [DONE]`): the frames below are the exact text the stream carries for these calls.
import { PING, ReplyEvents } from "@conversation-api/core";
import { describe, expect, it } from "vitest";
import { encoders } from "../src/wire/encoders";
import { uiStreamEncoder } from "../src/wire/ui-stream/encode";

const info = {
  id: "0b8a3c1e-1d2f-4a5b-8c9d-0e1f2a3b4c5d",
  conversation_id: "7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7",
  model: "openai/gpt-oss-20b",
  input_tokens: 42,
};
const TRICKY = 'Say "hi"\n\t\\ \u2028 </script> 😀';

function encode(calls: (ev: ReplyEvents, ping: () => void) => void): string {
  let out = "";
  const enc = uiStreamEncoder();
  calls(new ReplyEvents((e) => (out += enc(e))), () => (out += enc(PING)));
  return out;
}

const START = 'data: {"type":"start","messageId":"0b8a3c1e-1d2f-4a5b-8c9d-0e1f2a3b4c5d","messageMetadata":{"conversation_id":"7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7","model":"openai/gpt-oss-20b"}}\n\n';

describe("uiStreamEncoder", () => {
  it("writes a reasoning reply as start, reasoning, text, finish and [DONE], byte for byte", () => {
    expect(
      encode((ev, ping) => {
        ev.start(info);
        ev.reasoning("ab");
        ping();
        ev.text(TRICKY);
        ev.finish("end_turn", 12);
      }),
    ).toBe(
      [
        START,
        'data: {"type":"reasoning-start","id":"0"}\n\n',
        'data: {"type":"reasoning-delta","id":"0","delta":"ab"}\n\n',
        ": keep-alive\n\n",
        'data: {"type":"reasoning-end","id":"0"}\n\n',
        'data: {"type":"text-start","id":"1"}\n\n',
        `data: {"type":"text-delta","id":"1","delta":${JSON.stringify(TRICKY)}}\n\n`,
        'data: {"type":"text-end","id":"1"}\n\n',
        'data: {"type":"finish","finishReason":"stop","messageMetadata":{"stop_reason":"end_turn","output_tokens":12}}\n\n',
        "data: [DONE]\n\n",
      ].join(""),
    );
  });

  it("maps max_tokens to length and cancelled to other", () => {
    const finish = (reason: "max_tokens" | "cancelled") =>
      encode((ev) => {
        ev.start(info);
        ev.text("x");
        ev.finish(reason, 1);
      });
    expect(finish("max_tokens")).toContain('{"type":"finish","finishReason":"length","messageMetadata":{"stop_reason":"max_tokens","output_tokens":1}}');
    expect(finish("cancelled")).toContain('{"type":"finish","finishReason":"other","messageMetadata":{"stop_reason":"cancelled","output_tokens":1}}');
  });

  it("closes the open part before an error part, then ends with [DONE]", () => {
    expect(
      encode((ev) => {
        ev.start(info);
        ev.text("Partial");
        ev.error("api_error", "Lost the connection to the model provider");
      }),
    ).toBe(
      [
        START,
        'data: {"type":"text-start","id":"0"}\n\n',
        'data: {"type":"text-delta","id":"0","delta":"Partial"}\n\n',
        'data: {"type":"text-end","id":"0"}\n\n',
        'data: {"type":"error","errorText":"Lost the connection to the model provider"}\n\n',
        "data: [DONE]\n\n",
      ].join(""),
    );
  });

  it("writes a tool call as tool-input-start, -delta and -available with the parsed input, and finishes as tool-calls", () => {
    const out = (step: boolean) => {
      let text = "";
      const enc = uiStreamEncoder({ step });
      const ev = new ReplyEvents((e) => (text += enc(e)));
      ev.start(info);
      ev.text("Checking.");
      ev.toolStart("toolu_1", "get_weather");
      ev.toolInput('{"city":');
      ev.toolInput('"Oslo"}');
      ev.finish("tool_use", 9);
      return text;
    };
    expect(out(false)).toBe(
      [
        START,
        'data: {"type":"text-start","id":"0"}\n\n',
        'data: {"type":"text-delta","id":"0","delta":"Checking."}\n\n',
        'data: {"type":"text-end","id":"0"}\n\n',
        'data: {"type":"tool-input-start","toolCallId":"toolu_1","toolName":"get_weather"}\n\n',
        'data: {"type":"tool-input-delta","toolCallId":"toolu_1","inputTextDelta":"{\\"city\\":"}\n\n',
        'data: {"type":"tool-input-delta","toolCallId":"toolu_1","inputTextDelta":"\\"Oslo\\"}"}\n\n',
        'data: {"type":"tool-input-available","toolCallId":"toolu_1","toolName":"get_weather","input":{"city":"Oslo"}}\n\n',
        'data: {"type":"finish","finishReason":"tool-calls","messageMetadata":{"stop_reason":"tool_use","output_tokens":9}}\n\n',
        "data: [DONE]\n\n",
      ].join(""),
    );
    // A reply that continues the loop is a step of the same message.
    const step = out(true);
    expect(step.startsWith(
      'data: {"type":"start","messageMetadata":{"conversation_id":"7c6b5a49-3827-4615-a4b3-c2d1e0f9a8b7","model":"openai/gpt-oss-20b","reply_id":"0b8a3c1e-1d2f-4a5b-8c9d-0e1f2a3b4c5d"}}\n\ndata: {"type":"start-step"}\n\n',
    )).toBe(true);
    expect(step).toContain('data: {"type":"finish-step"}\n\ndata: {"type":"finish",');
  });

  it("a tool call cut short by an error or the token limit ends as tool-input-error", () => {
    expect(
      encode((ev) => {
        ev.start(info);
        ev.toolStart("toolu_1", "t");
        ev.toolInput('{"a":');
        ev.error("api_error", "Lost the connection to the model provider");
      }),
    ).toContain('data: {"type":"tool-input-error","toolCallId":"toolu_1","toolName":"t","input":"{\\"a\\":","errorText":"Lost the connection to the model provider"}\n\n');
    expect(
      encode((ev) => {
        ev.start(info);
        ev.toolStart("toolu_1", "t");
        ev.toolInput('{"a":');
        ev.finish("max_tokens", 3);
      }),
    ).toContain('"type":"tool-input-error","toolCallId":"toolu_1","toolName":"t","input":"{\\"a\\":","errorText":"The tool call\'s input was cut short"}');
  });

  it("is registered for the encoding bench as ai-sdk-ui, a new encoder per reply", () => {
    const a = encoders["ai-sdk-ui"]!();
    const b = encoders["ai-sdk-ui"]!();
    expect(a).not.toBe(b);
    expect(a(PING)).toBe(": keep-alive\n\n");
  });
});
