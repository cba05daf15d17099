import type { RouteDef } from "./route-types";

export const API_PREFIX = "/api/v1";

// The one list of endpoints: the local runtime serves it, the SST stack makes one Lambda function per
// entry, and the OpenAPI document is checked against it.
export const routes: RouteDef[] = [
  { name: "health", method: "GET", path: "/health", auth: false, streaming: false, load: () => import("./handlers/health") },
  { name: "auth-register", method: "POST", path: "/auth/register", auth: false, streaming: false, load: () => import("./handlers/auth-register") },
  { name: "auth-login", method: "POST", path: "/auth/login", auth: false, streaming: false, load: () => import("./handlers/auth-login") },
  { name: "auth-me", method: "GET", path: "/auth/me", auth: true, streaming: false, load: () => import("./handlers/auth-me") },
  { name: "conversations-create", method: "POST", path: "/conversations", auth: true, streaming: false, load: () => import("./handlers/conversations-create") },
  { name: "conversations-list", method: "GET", path: "/conversations", auth: true, streaming: false, load: () => import("./handlers/conversations-list") },
  { name: "conversations-get", method: "GET", path: "/conversations/{id}", auth: true, streaming: false, load: () => import("./handlers/conversations-get") },
  { name: "conversations-update", method: "PATCH", path: "/conversations/{id}", auth: true, streaming: false, load: () => import("./handlers/conversations-update") },
  { name: "conversations-delete", method: "DELETE", path: "/conversations/{id}", auth: true, streaming: false, load: () => import("./handlers/conversations-delete") },
  { name: "messages-list", method: "GET", path: "/conversations/{id}/messages", auth: true, streaming: false, load: () => import("./handlers/messages-list") },
  { name: "messages-stream", method: "POST", path: "/conversations/{id}/messages/stream", auth: true, streaming: true, load: () => import("./handlers/messages-stream") },
  { name: "usage", method: "GET", path: "/usage", auth: true, streaming: false, load: () => import("./handlers/usage") },
  // The API's self-description, at the host root (`prefix: false`); left out of the document itself.
  { name: "openapi-json", method: "GET", path: "/openapi.json", auth: false, streaming: false, prefix: false, load: () => import("./handlers/openapi-json") },
  { name: "docs", method: "GET", path: "/docs", auth: false, streaming: false, prefix: false, load: () => import("./handlers/docs") },
  { name: "docs-asset", method: "GET", path: "/docs/{file}", auth: false, streaming: false, prefix: false, load: () => import("./handlers/docs-asset") },
].map((r) => ({ ...r, method: r.method as RouteDef["method"], path: r.prefix === false ? r.path : API_PREFIX + r.path }));

export function pathOf(name: string): string {
  const route = routes.find((r) => r.name === name);
  if (!route) throw new Error(`No route named ${name}`);
  return route.path;
}
