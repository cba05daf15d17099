// A reply's tool calls as one append-only text, so they are flushed, stored and resumed exactly like
// its text: each call is a header (RS, its id, US, its name, US) followed by its input's JSON as the
// model wrote it. JSON text never holds a raw control character, so RS and US cannot occur inside an
// input; the model's pieces are cleaned of them (and of NUL, which PostgreSQL text cannot hold) before
// they go anywhere, so the live stream and the stored text say the same.
import type { ToolUseBlock } from "../schemas";

const RS = "\u001e";
const US = "\u001f";

export const toolHeader = (id: string, name: string): string => `${RS}${clean(id)}${US}${clean(name)}${US}`;

export const clean = (s: string): string => s.replace(/[\u0000\u001e\u001f]/g, "");

export interface ToolStreamSink {
  toolStart(id: string, name: string): void;
  toolInput(json: string): void;
}

/**
 * Replays a piece of a stored tool text into `sink`. A piece always holds whole headers: the flushes
 * append what the reply produced in whole events, and a header is one event.
 */
export function replayToolText(piece: string, sink: ToolStreamSink): void {
  const parts = piece.split(RS);
  if (parts[0]) sink.toolInput(parts[0]);
  for (let i = 1; i < parts.length; i++) {
    const [id = "", name = "", ...input] = parts[i]!.split(US);
    sink.toolStart(id, name);
    const json = input.join(US);
    if (json) sink.toolInput(json);
  }
}

/** The stored tool text as blocks, in order; an input that is not JSON (a reply cut short) stays text. */
export function toolUseBlocks(text: string): ToolUseBlock[] {
  if (!text) return [];
  const blocks: ToolUseBlock[] = [];
  let json = "";
  const close = () => {
    const last = blocks.at(-1);
    if (last) last.input = parseInput(json);
    json = "";
  };
  replayToolText(text, {
    toolStart: (id, name) => {
      close();
      blocks.push({ type: "tool_use", id, name, input: {} });
    },
    toolInput: (piece) => void (json += piece),
  });
  close();
  return blocks;
}

function parseInput(json: string): unknown {
  if (json.trim() === "") return {};
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}
