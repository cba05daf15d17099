import * as z from "zod";
import { ConversationExport, ExportQuery, IdParams, exportJson, exportMarkdown } from "@conversation-api/core";
import { TextBody, jsonHandler } from "../http";

export const handler = jsonHandler(
  "conversations-export",
  {
    summary: "Export a conversation: JSON with every branch, or its current branch as Markdown (a download)",
    params: IdParams,
    query: ExportQuery,
    response: ConversationExport,
    representations: {
      "text/markdown": z.string().describe("The current branch: title, system prompt, then each turn under a role heading; reasoning in a collapsed <details>"),
    },
  },
  async ({ deps, userId, params, query }) => {
    const store = deps.store.forUser(userId);
    if (query.format === "json") return exportJson(store, params.id);
    const { filename, markdown } = await exportMarkdown(store, params.id);
    return new TextBody("text/markdown; charset=utf-8", markdown, { "content-disposition": `attachment; filename="${filename}"` });
  },
);
