// Tools the model provider runs itself (Groq's built-in tools), and the blocks a reply that used them
// carries, in the shape of Anthropic's server tools: a `server_tool_use` block (what the model asked)
// followed by its result block (`web_search_tool_result` for a search, `code_execution_tool_result`
// for code), with what the provider returned in them. They arrive whole, never in pieces.
import * as z from "zod";

export const SERVER_TOOLS = ["browser_search", "code_interpreter"] as const;
export const ServerToolName = z.enum(SERVER_TOOLS);
export type ServerToolName = z.infer<typeof ServerToolName>;

export const ServerTools = z
  .array(ServerToolName)
  .max(SERVER_TOOLS.length)
  .refine((a) => new Set(a).size === a.length, "must not repeat a tool")
  .describe(
    "Tools the model provider runs itself while it answers: `browser_search` (a web search) and `code_interpreter` (Python in a sandbox). Only on a model whose `server_tools` in GET /api/v1/models lists them (422 otherwise). Each use streams as a `server_tool_use` block followed by its result block, before the text",
  );

export const ServerToolUseBlock = z.object({
  type: z.literal("server_tool_use"),
  id: z.string().describe("Names the use; its result block's tool_use_id"),
  name: ServerToolName,
  input: z.record(z.string(), z.unknown()).describe("What the model asked of the tool (a search's query, the code it ran)"),
});
export type ServerToolUseBlock = z.infer<typeof ServerToolUseBlock>;

export const WebSearchResult = z.object({
  type: z.literal("web_search_result"),
  url: z.string(),
  title: z.string(),
  page_age: z.null().describe("Not reported by the provider"),
  content: z.string().optional().describe("The page's text the search returned (shortened)"),
});

export const WebSearchToolResultBlock = z.object({
  type: z.literal("web_search_tool_result"),
  tool_use_id: z.string(),
  content: z.array(WebSearchResult).describe("The pages the search found"),
  output: z.string().optional().describe("The tool's output as the model read it (shortened)"),
});

export const CodeExecutionToolResultBlock = z.object({
  type: z.literal("code_execution_tool_result"),
  tool_use_id: z.string(),
  content: z.object({
    type: z.literal("code_execution_result"),
    stdout: z.string().describe("What the code printed (shortened)"),
    stderr: z.string(),
    return_code: z.number().int(),
    content: z.array(z.unknown()).max(0).describe("Files the code wrote: none are kept"),
  }),
});

export const ServerToolResultBlock = z.union([WebSearchToolResultBlock, CodeExecutionToolResultBlock]);
export type ServerToolResultBlock = z.infer<typeof ServerToolResultBlock>;

export const ServerToolBlock = z.union([ServerToolUseBlock, WebSearchToolResultBlock, CodeExecutionToolResultBlock]);
export type ServerToolBlock = z.infer<typeof ServerToolBlock>;
