// Groq's executed_tools entries read into server tool events: whole or in two parts, named by what was
// asked, their arguments kept when they are not a JSON object, and one that never got its output
// handed over when the stream ends.
import { describe, expect, it } from "vitest";
import { ExecutedToolReader, withServerTools } from "../src/providers/groq-server-tools";

describe("ExecutedToolReader", () => {
  it("yields a tool once its output arrived, whether whole or after its arguments", () => {
    const r = new ExecutedToolReader(["browser_search", "code_interpreter"]);
    expect([...r.read([{ index: 0, type: "python", arguments: '{"code":"1"}' }])]).toEqual([]);
    const [code] = [...r.read([{ index: 0, type: "python", arguments: '{"code":"1"}', output: "1" }])];
    expect(code).toMatchObject({
      type: "server_tool",
      use: { type: "server_tool_use", name: "code_interpreter", input: { code: "1" } },
      result: { type: "code_execution_tool_result", content: { stdout: "1", stderr: "", return_code: 0, content: [] } },
    });
    expect(code!.result.tool_use_id).toBe(code!.use.id);
    // A repeat of a tool already yielded is not a second use.
    expect([...r.read([{ index: 0, type: "python", arguments: "", output: "1" }])]).toEqual([]);
    expect(r.uses()).toEqual({ code_interpreter: 1 });
  });

  it("names a tool by what was asked when one was; keeps arguments that are not an object; hands over the unfinished at the end", () => {
    const r = new ExecutedToolReader(["browser_search"]);
    expect([...r.read([{ index: 0, type: "search", arguments: "not json" }])]).toEqual([]);
    const rest = [...r.rest()];
    expect(rest).toHaveLength(1);
    expect(rest[0]).toMatchObject({
      use: { name: "browser_search", input: { arguments: "not json" } },
      result: { type: "web_search_tool_result", content: [] },
    });
    expect([...r.rest()]).toEqual([]);
    expect(r.uses()).toEqual({ browser_search: 1 });
    expect(new ExecutedToolReader([]).uses()).toBeNull();
  });

  it("shortens what a tool returned, so a stored reply stays small", () => {
    const r = new ExecutedToolReader(["browser_search"]);
    const page = { title: "t", url: "https://example.com", content: "x".repeat(5_000) };
    const [e] = [...r.read([{ index: 0, type: "search", arguments: "{}", output: "y".repeat(20_000), search_results: { results: Array(30).fill(page) } }])];
    const result = e!.result;
    if (result.type !== "web_search_tool_result") throw new Error("a search's result");
    expect(result.content).toHaveLength(10);
    expect(result.content[0]!.content!.length).toBeLessThanOrEqual(1_001);
    expect(result.output!.length).toBeLessThanOrEqual(8_001);
  });
});

describe("withServerTools", () => {
  it("adds the built-in tools after the function tools, and changes nothing without them", () => {
    const params = { tools: [{ type: "function" as const, function: { name: "f", parameters: {} } }], tool_choice: "auto" as const };
    expect(withServerTools(params, ["browser_search"])).toEqual({ ...params, tools: [...params.tools, { type: "browser_search" }] });
    expect(withServerTools({}, ["code_interpreter"])).toEqual({ tools: [{ type: "code_interpreter" }] });
    expect(withServerTools(params, undefined)).toBe(params);
    expect(withServerTools(params, [])).toBe(params);
  });
});
