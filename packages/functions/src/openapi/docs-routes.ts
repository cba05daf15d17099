import type { RouteDef } from "../route-types";

// The routes that serve the document and its viewer describe no API of their own, so the document
// leaves them out. Every other route must have a handler with a `spec`.
export const DOCS_ROUTE_NAMES: ReadonlySet<string> = new Set(["openapi-json", "docs", "docs-asset"]);

export const isDocsRoute = (route: Pick<RouteDef, "name">) => DOCS_ROUTE_NAMES.has(route.name);
