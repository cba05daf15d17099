// Groq's built-in tools (console.groq.com/docs/tool-use/built-in-tools; docs/sources.md): asked for as
// `tools: [{type: "browser_search"}, {type: "code_interpreter"}]` beside any function tools, run on
// Groq's side, and reported in the stream's `choices[0].delta.executed_tools` (groq-sdk's
// ChatCompletionChunk.Choice.Delta.ExecutedTool: index, type, arguments, output, search_results,
// browser_results, code_results). They become the provider port's `server_tool` events, in the shape
// of Anthropic's server tool blocks.
import { randomUUID } from "node:crypto";
import type { CompletionEvent, ServerToolName, ServerToolResultBlock, ServerToolUseBlock } from "@conversation-api/core";
import type { ChatCompletionChunk } from "groq-sdk/resources/chat/completions";

type ExecutedTool = ChatCompletionChunk.Choice.Delta.ExecutedTool;
type ServerToolEvent = Extract<CompletionEvent, { type: "server_tool" }>;

/** Stored with the reply, so what a tool returned is kept to a size a row holds many of. */
const MAX_OUTPUT_CHARS = 8_000;
const MAX_RESULTS = 10;
const MAX_RESULT_CHARS = 1_000;

/** The request's tools with the built-in ones added; unchanged when none are asked for. */
export function withServerTools<P extends { tools?: object[] }>(params: P, names: readonly ServerToolName[] | undefined) {
  if (!names?.length) return params;
  return { ...params, tools: [...(params.tools ?? []), ...names.map((type) => ({ type }))] };
}

/**
 * Reads `delta.executed_tools` entries into whole server tools. An entry may come once, complete, or
 * first with its arguments and later (same index) with its output: a tool is yielded once its output
 * (or results) arrived; `rest` yields those that never got one, when the stream ends.
 */
export class ExecutedToolReader {
  private readonly byIndex = new Map<number, { tool: Partial<ExecutedTool>; done: boolean }>();

  constructor(private readonly asked: readonly ServerToolName[]) {}

  *read(entries: ExecutedTool[]): Generator<ServerToolEvent> {
    for (const entry of entries) {
      const seen = this.byIndex.get(entry.index);
      if (seen?.done) continue;
      const tool = { ...seen?.tool, ...definedFields(entry) };
      const done = hasResult(tool);
      this.byIndex.set(entry.index, { tool, done });
      if (done) yield this.event(tool);
    }
  }

  *rest(): Generator<ServerToolEvent> {
    for (const seen of this.byIndex.values()) {
      if (seen.done) continue;
      seen.done = true;
      yield this.event(seen.tool);
    }
  }

  /** How many times each tool ran (Groq bills built-in tools per use), or null when none did. */
  uses(): Partial<Record<ServerToolName, number>> | null {
    if (this.byIndex.size === 0) return null;
    const out: Partial<Record<ServerToolName, number>> = {};
    for (const { tool } of this.byIndex.values()) {
      const name = this.nameOf(tool.type);
      out[name] = (out[name] ?? 0) + 1;
    }
    return out;
  }

  /**
   * Groq names the tool that ran in its own words (gpt-oss's browser and python tools); with one tool
   * asked for, that is the one, else code is the one whose type says so.
   */
  private nameOf(type: string | undefined): ServerToolName {
    if (this.asked.length === 1) return this.asked[0]!;
    return /python|code/i.test(type ?? "") ? "code_interpreter" : "browser_search";
  }

  private event(tool: Partial<ExecutedTool>): ServerToolEvent {
    const name = this.nameOf(tool.type);
    const id = `srvtoolu_${randomUUID().replaceAll("-", "")}`;
    const use: ServerToolUseBlock = { type: "server_tool_use", id, name, input: inputOf(tool.arguments) };
    return { type: "server_tool", use, result: name === "code_interpreter" ? codeResult(id, tool) : searchResult(id, tool) };
  }
}

function definedFields(entry: ExecutedTool): Partial<ExecutedTool> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry)) if (v !== undefined && v !== null) out[k] = v;
  return out as Partial<ExecutedTool>;
}

const hasResult = (t: Partial<ExecutedTool>) =>
  typeof t.output === "string" || t.search_results != null || (t.browser_results?.length ?? 0) > 0 || (t.code_results?.length ?? 0) > 0;

const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max)}…` : s);

/** The arguments' JSON as the block's input object; text that is not a JSON object is kept as it came. */
function inputOf(args: string | undefined): Record<string, unknown> {
  if (!args?.trim()) return {};
  try {
    const v = JSON.parse(args) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* kept as text below */
  }
  return { arguments: cut(args, MAX_OUTPUT_CHARS) };
}

function searchResult(id: string, t: Partial<ExecutedTool>): ServerToolResultBlock {
  const pages = [...(t.search_results?.results ?? []), ...(t.browser_results ?? [])].slice(0, MAX_RESULTS);
  return {
    type: "web_search_tool_result",
    tool_use_id: id,
    content: pages.map((p) => ({
      type: "web_search_result" as const,
      url: p.url ?? "",
      title: p.title ?? "",
      page_age: null,
      ...(p.content ? { content: cut(p.content, MAX_RESULT_CHARS) } : {}),
    })),
    ...(t.output ? { output: cut(t.output, MAX_OUTPUT_CHARS) } : {}),
  };
}

/** Groq reports what the code printed (`output`, or each result's text); it reports no exit status. */
function codeResult(id: string, t: Partial<ExecutedTool>): ServerToolResultBlock {
  const printed = t.output ?? (t.code_results ?? []).map((r) => r.text ?? "").filter(Boolean).join("\n");
  return {
    type: "code_execution_tool_result",
    tool_use_id: id,
    content: { type: "code_execution_result", stdout: cut(printed, MAX_OUTPUT_CHARS), stderr: "", return_code: 0, content: [] },
  };
}
