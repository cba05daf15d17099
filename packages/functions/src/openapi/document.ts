import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import type { HandlerSpec } from "../http";
import type { RouteDef } from "../route-types";
import { routes as allRoutes } from "../routes";
import { registerComponents } from "./components";
import { isDocsRoute } from "./docs-routes";
import { operation, tagOf } from "./operation";

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31["generateDocument"]>;

const INFO = {
  title: "conversation-api",
  version: "1.0.0",
  description:
    "Streaming chat backend. Sign up or log in under `/auth` for a bearer token, then create conversations and " +
    "stream replies as Server-Sent Events. Every error is a JSON `ErrorBody` carrying the request id.",
};

/**
 * The OpenAPI 3.1 document, built only from the routes table and each handler's `spec` (its zod
 * schemas). Async because it loads the handler modules, as the runtime does.
 */
export async function buildOpenApiDocument(routes: RouteDef[] = allRoutes): Promise<OpenApiDocument> {
  const registry = new OpenAPIRegistry();
  const { named, shared } = registerComponents(registry);
  const described = routes.filter((r) => !isDocsRoute(r));
  for (const route of described) registry.registerPath(operation(route, await specOf(route), shared));
  return new OpenApiGeneratorV31([...registry.definitions, ...named], { sortComponents: "alphabetically" }).generateDocument({
    openapi: "3.1.0",
    info: INFO,
    // Paths already carry /api/v1; the document describes whichever host serves it.
    servers: [{ url: "/" }],
    // Listed so viewers show the groups in the routes table's order rather than first-seen order.
    tags: [...new Set(described.map(tagOf))].map((name) => ({ name })),
  });
}

async function specOf(route: RouteDef): Promise<HandlerSpec<unknown, unknown, unknown, unknown>> {
  const { handler } = await route.load();
  const spec = (handler as { spec?: HandlerSpec<unknown, unknown, unknown, unknown> }).spec;
  if (!spec) throw new Error(`Route ${route.name}: its handler has no spec (use jsonHandler/streamHandler, or list it in DOCS_ROUTE_NAMES)`);
  return spec;
}
