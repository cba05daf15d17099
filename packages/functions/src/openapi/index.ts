export { buildOpenApiDocument, type OpenApiDocument } from "./document";
export { serializeDocument } from "./serialize";
export { DOCS_ROUTE_NAMES, isDocsRoute } from "./docs-routes";
export { eventSchemaName } from "./components";
