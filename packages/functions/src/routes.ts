import type { RouteDef } from "./route-types";
import { routeTable } from "./route-table";

export { API_PREFIX, pathOf, routeTable, routesServedBy } from "./route-table";

// Handler modules load lazily: the local runtime imports each on first use, as a cold start would.
const loaders: Record<string, RouteDef["load"]> = {
  "health": () => import("./handlers/health"),
  "auth-register": () => import("./handlers/auth-register"),
  "auth-login": () => import("./handlers/auth-login"),
  "auth-me": () => import("./handlers/auth-me"),
  "auth-refresh": () => import("./handlers/auth-refresh"),
  "auth-logout": () => import("./handlers/auth-logout"),
  "auth-logout-all": () => import("./handlers/auth-logout-all"),
  "auth-password": () => import("./handlers/auth-password"),
  "api-keys-create": () => import("./handlers/api-keys-create"),
  "api-keys-list": () => import("./handlers/api-keys-list"),
  "api-keys-delete": () => import("./handlers/api-keys-delete"),
  "conversations-create": () => import("./handlers/conversations-create"),
  "conversations-list": () => import("./handlers/conversations-list"),
  "conversations-get": () => import("./handlers/conversations-get"),
  "conversations-update": () => import("./handlers/conversations-update"),
  "conversations-delete": () => import("./handlers/conversations-delete"),
  "messages-list": () => import("./handlers/messages-list"),
  "messages-stream": () => import("./handlers/messages-stream"),
  "messages-resume": () => import("./handlers/messages-resume"),
  "messages-cancel": () => import("./handlers/messages-cancel"),
  "conversations-export": () => import("./handlers/conversations-export"),
  "messages-regenerate": () => import("./handlers/messages-regenerate"),
  "conversations-branch": () => import("./handlers/conversations-branch"),
  "chat-send": () => import("./handlers/chat-send"),
  "chat-resume": () => import("./handlers/chat-resume"),
  "usage": () => import("./handlers/usage"),
  "models": () => import("./handlers/models"),
  "anthropic-messages": () => import("./handlers/anthropic-messages"),
  "anthropic-count-tokens": () => import("./handlers/anthropic-count-tokens"),
  "anthropic-models": () => import("./handlers/anthropic-models"),
  "openai-chat-completions": () => import("./handlers/openai-chat-completions"),
  "openai-models": () => import("./handlers/openai-models"),
  "openapi-json": () => import("./handlers/openapi-json"),
  "docs": () => import("./handlers/docs"),
  "docs-asset": () => import("./handlers/docs-asset"),
};

/** The routes table with each handler's module loader (local runtime, OpenAPI generation). */
export const routes: RouteDef[] = routeTable.map((r) => {
  const load = loaders[r.name];
  if (!load) throw new Error(`No handler module for route ${r.name}`);
  return { ...r, load };
});
