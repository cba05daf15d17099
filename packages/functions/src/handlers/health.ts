import { jsonHandler } from "../http";

export const handler = jsonHandler({ auth: false }, async ({ deps }) => {
  const database = (await deps.store.health()) ? "ok" : "unavailable";
  return { status: database === "ok" ? "ok" : "degraded", database };
});
