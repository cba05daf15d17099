// A reply's tool calls as one append-only text, so they are flushed, stored and resumed exactly like
// its text: each call is a header (RS, its id, US, its name, US) followed by its input's JSON as the
// model wrote it. JSON text never holds a raw control character, so RS and US cannot occur inside an
// input; the model's pieces are cleaned of them (and of NUL, which PostgreSQL text cannot hold) before
// they go anywhere, so the live stream and the stored text say the same.
//
// The provider's built-in tools (server_tools) a reply used come first in the same text, each one
// entry appended whole: GS, then the JSON of its two blocks [server_tool_use, result]. They precede
// the text and every call (events.ts), so the text's leading entries are all of them, and a flush
// that stores text after them has stored them too.
import type { ServerToolResultBlock, ServerToolUseBlock, ToolUseBlock } from "../schemas";

const RS = "\u001e";
const US = "\u001f";
const GS = "\u001d";

export const toolHeader = (id: string, name: string): string => `${RS}${clean(id)}${US}${clean(name)}${US}`;

/** A server tool's stored entry: its blocks as one JSON text, which never holds a raw GS. */
export const serverToolEntry = (use: ServerToolUseBlock, result: ServerToolResultBlock): string => GS + JSON.stringify([use, result]);

export const clean = (s: string): string => s.replace(/[\u0000\u001d\u001e\u001f]/g, "");

export interface ToolStreamSink {
  toolStart(id: string, name: string): void;
  toolInput(json: string): void;
  /** A server tool's blocks, with its entry's length in the stored text. */
  serverTool?(use: ServerToolUseBlock, result: ServerToolResultBlock, length: number): void;
}

/**
 * Replays a piece of a stored tool text into `sink`. A piece always holds whole headers: the flushes
 * append what the reply produced in whole events, and a header is one event.
 */
export function replayToolText(piece: string, sink: ToolStreamSink): void {
  const parts = piece.split(RS);
  if (parts[0]?.startsWith(GS)) replayServerTools(parts[0], sink);
  else if (parts[0]) sink.toolInput(parts[0]);
  for (let i = 1; i < parts.length; i++) {
    const [id = "", name = "", ...input] = parts[i]!.split(US);
    sink.toolStart(id, name);
    const json = input.join(US);
    if (json) sink.toolInput(json);
  }
}

/** The server tools' entries a piece of stored tool text starts with ('' when it starts with none). */
export const leadingServerTools = (piece: string): string => (piece.startsWith(GS) ? piece.split(RS, 1)[0]! : "");

/** The server tools' entries (a run of whole ones: see the top of this file). */
function replayServerTools(entries: string, sink: ToolStreamSink): void {
  for (const json of entries.split(GS).slice(1)) {
    const [use, result] = JSON.parse(json) as [ServerToolUseBlock, ServerToolResultBlock];
    sink.serverTool?.(use, result, GS.length + json.length);
  }
}

/** The server tools' blocks of a stored tool text, in order: each use followed by its result. */
export function serverToolBlocks(text: string): (ServerToolUseBlock | ServerToolResultBlock)[] {
  const blocks: (ServerToolUseBlock | ServerToolResultBlock)[] = [];
  const entries = leadingServerTools(text);
  if (entries) replayServerTools(entries, { toolStart() {}, toolInput() {}, serverTool: (use, result) => void blocks.push(use, result) });
  return blocks;
}

/**
 * A stored tool text as a listed message's fields: its calls (`tool_use`) and the server tools it used
 * (`server_tools`), each only when there are some.
 */
export function toolFields(text: string | null | undefined): { tool_use?: ToolUseBlock[]; server_tools?: (ServerToolUseBlock | ServerToolResultBlock)[] } {
  if (!text) return {};
  const calls = toolUseBlocks(text);
  const server = serverToolBlocks(text);
  return { ...(calls.length ? { tool_use: calls } : {}), ...(server.length ? { server_tools: server } : {}) };
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
