export { routes, API_PREFIX } from "./routes";
export type { RouteDef, HttpMethod, BufferedHandler } from "./route-types";
export { shutdown, getDeps } from "./deps";
export { loadConfig } from "./config";
export { buildOpenApiDocument, serializeDocument } from "./openapi";
