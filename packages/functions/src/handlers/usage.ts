import { UsageRequest, usageReport } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ auth: true, query: UsageRequest }, ({ deps, userId, query }) =>
  usageReport(deps.store.forUser(userId), query),
);
