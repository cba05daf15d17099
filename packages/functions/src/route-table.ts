import type { RouteDef, RouteSecret } from "./route-types";

export const API_PREFIX = "/api/v1";

export type RouteSpec = Omit<RouteDef, "load">;

// The one list of endpoints: the local runtime serves it, the SST stack makes one Lambda function per
// entry, and the OpenAPI document is checked against it. Plain data, so a handler may import it without
// pulling every other handler into its bundle (routes.ts adds the loaders).
type RawRoute = Omit<RouteSpec, "method" | "holds"> & { method: string; holds?: RouteSecret[] };

export const routeTable: RouteSpec[] = ([
  { name: "health", method: "GET", path: "/health", auth: false, streaming: false },
  { name: "auth-register", method: "POST", path: "/auth/register", auth: false, streaming: false, holds: ["signing-key", "secret-key"] },
  { name: "auth-login", method: "POST", path: "/auth/login", auth: false, streaming: false, holds: ["signing-key", "secret-key"] },
  { name: "auth-me", method: "GET", path: "/auth/me", auth: true, streaming: false },
  // Sessions and API keys.
  // Refresh and password change issue tokens and use server-only SQL functions; the logouts only the latter.
  // Signing out everywhere is a session's act on its account, like the password: API keys cannot.
  { name: "auth-refresh", method: "POST", path: "/auth/refresh", auth: false, streaming: false, holds: ["signing-key", "secret-key"] },
  { name: "auth-logout", method: "POST", path: "/auth/logout", auth: false, streaming: false, holds: ["secret-key"] },
  { name: "auth-logout-all", method: "POST", path: "/auth/logout-all", auth: true, sessionOnly: true, streaming: false, holds: ["secret-key"] },
  { name: "auth-password", method: "POST", path: "/auth/password", auth: true, sessionOnly: true, streaming: false, holds: ["signing-key", "secret-key"] },
  // API keys are the user's own rows (RLS): no secret.
  { name: "api-keys-create", method: "POST", path: "/api-keys", auth: true, sessionOnly: true, streaming: false },
  { name: "api-keys-list", method: "GET", path: "/api-keys", auth: true, streaming: false },
  { name: "api-keys-delete", method: "DELETE", path: "/api-keys/{id}", auth: true, sessionOnly: true, streaming: false },
  { name: "conversations-create", method: "POST", path: "/conversations", auth: true, streaming: false },
  { name: "conversations-list", method: "GET", path: "/conversations", auth: true, streaming: false },
  { name: "conversations-get", method: "GET", path: "/conversations/{id}", auth: true, streaming: false },
  { name: "conversations-update", method: "PATCH", path: "/conversations/{id}", auth: true, streaming: false },
  { name: "conversations-delete", method: "DELETE", path: "/conversations/{id}", auth: true, streaming: false },
  { name: "messages-list", method: "GET", path: "/conversations/{id}/messages", auth: true, streaming: false },
  { name: "messages-stream", method: "POST", path: "/conversations/{id}/messages/stream", auth: true, streaming: true, holds: ["model-key"] },
  // Durable replies: follow a reply from any instance (streaming), and stop one. Neither
  // calls the model, so neither holds a secret.
  { name: "messages-resume", method: "GET", path: "/conversations/{id}/messages/{message_id}/stream", auth: true, streaming: true },
  { name: "messages-cancel", method: "POST", path: "/conversations/{id}/messages/{message_id}/cancel", auth: true, streaming: false },
  // Export: the caller's own data, no secret.
  { name: "conversations-export", method: "GET", path: "/conversations/{id}/export", auth: true, streaming: false },
  // Branches: regenerate calls the model like a send (its own streaming Function URL).
  { name: "messages-regenerate", method: "POST", path: "/conversations/{id}/messages/{message_id}/regenerate", auth: true, streaming: true, holds: ["model-key"] },
  { name: "conversations-branch", method: "POST", path: "/conversations/{id}/branch", auth: true, streaming: false },
  // The AI SDK's useChat (DefaultChatTransport): a send or regenerate, and the resume its `resume: true` asks for.
  { name: "chat-send", method: "POST", path: "/chat", auth: true, streaming: true, holds: ["model-key"] },
  { name: "chat-resume", method: "GET", path: "/chat/{id}/stream", auth: true, streaming: true },
  { name: "usage", method: "GET", path: "/usage", auth: true, streaming: false },
  { name: "models", method: "GET", path: "/models", auth: false, streaming: false },
  // Anthropic Messages and OpenAI Chat Completions at the host root (`{host}/anthropic`, `{host}/openai/v1`
  // are the clients' base URLs): each format's routes on one Function URL, its messages route's.
  { name: "anthropic-messages", method: "POST", path: "/anthropic/v1/messages", auth: true, streaming: true, prefix: false, holds: ["model-key"] },
  { name: "anthropic-count-tokens", method: "POST", path: "/anthropic/v1/messages/count_tokens", auth: true, streaming: true, prefix: false, holds: ["model-key"], servedBy: "anthropic-messages" },
  { name: "anthropic-models", method: "GET", path: "/anthropic/v1/models", auth: true, streaming: true, prefix: false, holds: ["model-key"], servedBy: "anthropic-messages" },
  { name: "openai-chat-completions", method: "POST", path: "/openai/v1/chat/completions", auth: true, streaming: true, prefix: false, holds: ["model-key"] },
  { name: "openai-models", method: "GET", path: "/openai/v1/models", auth: true, streaming: true, prefix: false, holds: ["model-key"], servedBy: "openai-chat-completions" },
  // The API's self-description, at the host root (`prefix: false`); left out of the document itself.
  { name: "openapi-json", method: "GET", path: "/openapi.json", auth: false, streaming: false, prefix: false },
  { name: "docs", method: "GET", path: "/docs", auth: false, streaming: false, prefix: false },
  { name: "docs-asset", method: "GET", path: "/docs/{file}", auth: false, streaming: false, prefix: false },
] satisfies RawRoute[]).map((r: RawRoute) => ({ ...r, method: r.method as RouteDef["method"], path: r.prefix === false ? r.path : API_PREFIX + r.path }));

export function routeOf(name: string): RouteSpec {
  const route = routeTable.find((r) => r.name === name);
  if (!route) throw new Error(`No route named ${name}`);
  return route;
}

export const pathOf = (name: string): string => routeOf(name).path;

/** The routes one function serves: its own, and those served on its Function URL (`servedBy`). */
export const routesServedBy = (name: string): RouteSpec[] => routeTable.filter((r) => r.name === name || r.servedBy === name);
