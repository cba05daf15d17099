// GET /conversations/{id}/export: the whole conversation as data (JSON), or its current branch as a
// document people can read, keep or paste (Markdown).
import { notFound } from "../errors";
import type { UserStore } from "../ports";
import type { Conversation, ConversationExport, Message } from "../schemas";

export async function exportJson(store: UserStore, id: string): Promise<ConversationExport> {
  return (await store.exportConversation(id)) ?? Promise.reject(notFound("Conversation"));
}

/** Page size when reading the current branch through the store's message list. */
const PAGE = 100;

/**
 * The current branch, read as the message list (which shows the current branch once messages form a
 * tree), then rendered. 404 for anything that is not the caller's conversation.
 */
export async function exportMarkdown(store: UserStore, id: string): Promise<{ filename: string; markdown: string }> {
  const conversation = await store.getConversation(id);
  if (!conversation) throw notFound("Conversation");
  const messages: Message[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listMessages(id, { limit: PAGE, cursor });
    if (!page) throw notFound("Conversation");
    messages.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return { filename: exportFilename(conversation, "md"), markdown: renderMarkdown(conversation, messages) };
}

export function renderMarkdown(conversation: Conversation, messages: Message[]): string {
  const out: string[] = [`# ${oneLine(conversation.title ?? "Untitled conversation")}`, ""];
  out.push(`- Model: ${conversation.model}`, `- Created: ${conversation.created_at}`, `- Exported: ${new Date().toISOString()}`, "");
  if (conversation.system_prompt) out.push("## System prompt", "", conversation.system_prompt, "");
  // Each call's tool, so a result can say which tool it answers.
  const toolOf = new Map<string, string>();
  for (const m of messages) {
    out.push(m.role === "user" ? "## User" : `## Assistant${m.model ? ` (${m.model})` : ""}`, "");
    if (m.reasoning) out.push("<details>", "<summary>Reasoning</summary>", "", m.reasoning, "", "</details>", "");
    for (const r of m.tool_result ?? []) {
      const tool = toolOf.get(r.tool_use_id);
      out.push(`**Tool result**${tool ? ` \`${tool}\`` : ""} (${r.tool_use_id})${r.is_error ? " _(error)_" : ""}`, "", ...fenced(r.content), "");
    }
    if (m.content || !(m.tool_use?.length || m.tool_result?.length)) out.push(m.content || "_(no text)_", "");
    for (const t of m.tool_use ?? []) {
      toolOf.set(t.id, t.name);
      out.push(`**Tool call** \`${t.name}\` (${t.id})`, "", ...fenced(typeof t.input === "string" ? t.input : JSON.stringify(t.input, null, 2), "json"), "");
    }
    if (m.role === "assistant" && m.finish_reason && m.finish_reason !== "end_turn") out.push(`_(${stopNote(m.finish_reason)})_`, "");
  }
  return `${out.join("\n").trimEnd()}\n`;
}

const stopNote = (reason: NonNullable<Message["finish_reason"]>) =>
  ({ max_tokens: "stopped at the token limit", tool_use: "waiting for tool results", cancelled: "stopped by the user", error: "the reply failed", end_turn: "" })[reason];

/** A code block around `text`, its fence longer than any run of backticks inside. */
function fenced(text: string, lang = ""): string[] {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return [`${fence}${lang}`, text, fence];
}

const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();

/** A filename every operating system accepts: the title's letters and digits, then the id's start. */
export function exportFilename(conversation: Pick<Conversation, "id" | "title">, ext: string): string {
  const slug = (conversation.title ?? "")
    .normalize("NFKD")
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "")
    .toLowerCase()
    .slice(0, 50)
    .replace(/-+$/, "");
  return `${slug || "conversation"}-${conversation.id.slice(0, 8)}.${ext}`;
}
