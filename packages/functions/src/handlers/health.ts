import { Health } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ summary: "Service and database health", auth: false, response: Health }, async ({ deps }) => {
  const database = (await deps.store.health()) ? "ok" : "unavailable";
  return { status: database === "ok" ? "ok" : "degraded", database };
});
