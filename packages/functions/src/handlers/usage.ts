import { UsageRequest, usageReport, UsageReport } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "usage",
  { summary: "Your token usage by day or by model", query: UsageRequest, response: UsageReport },
  ({ deps, userId, query }) =>
    usageReport(deps.store.forUser(userId), query),
);
