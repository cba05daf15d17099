import { Health } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "health",
  { summary: "Service and database health", response: Health },
  async ({ deps }) => {
    const database = (await deps.store.health()) ? "ok" : "unavailable";
    return { status: database === "ok" ? "ok" : "degraded", database };
  },
);
