export { routes, API_PREFIX } from "./routes";
export type { RouteDef, HttpMethod, BufferedHandler } from "./route-types";
export { shutdown, getDeps, buildDeps, depsSource, depsContext, type Deps, type DepsSource, type BuildOptions, type DepsContext } from "./deps";
export { loadConfig } from "./config";
export { loadTokenCounter } from "./tokenizer";
export { buildOpenApiDocument, serializeDocument } from "./openapi";
