import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from "node:http";
import { isStreamingHandler } from "./awslambda-shim";
import { MAX_BODY_BYTES, PayloadTooLargeError, readBody } from "./body";
import { createLambdaContext } from "./context";
import { corsHeaders, writePreflight } from "./cors";
import { toApiGatewayEvent } from "./event";
import { LAMBDA_ERROR_BODY, sendJson } from "./http-util";
import { consoleLogger, silentLogger, type Logger } from "./logger";
import { writeProxyResult } from "./response";
import { createRouter } from "./router";
import { invokeStreamingHandler } from "./stream-invoke";

/** What the local runtime needs from a route; the functions package's `RouteDef` satisfies it. */
export interface LocalRoute {
  name: string;
  method: string;
  /** API Gateway route syntax: `/api/v1/conversations/{id}`. */
  path: string;
  /** Served from a RESPONSE_STREAM Function URL rather than the HTTP API. */
  streaming: boolean;
  load: () => Promise<{ handler: unknown }>;
}

/** Serves a request outside the route table (docs, OpenAPI); return true when it answered. */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface LocalServerOptions {
  routes: readonly LocalRoute[];
  /** Timeout of API Gateway functions, for context.getRemainingTimeInMillis (default 30 s, the HTTP API maximum). */
  timeoutMs?: number;
  /** Timeout of Function URL (streaming) functions (default 900 s, the Lambda maximum). */
  streamTimeoutMs?: number;
  logger?: Logger;
  extraRoutes?: ExtraRoutes;
  /** Request payload cap (default 10 MiB, API Gateway's). */
  maxBodyBytes?: number;
  /** Give streaming handlers pathParameters, which a real Function URL event does not carry (default false). */
  pathParametersOnFunctionUrl?: boolean;
  /** Lambda-faithful streaming: a client disconnect is invisible to the handler, as on a Function URL (default false). */
  hideDisconnects?: boolean;
  /**
   * Fields added to every invocation's context: how the runtime passes what it built to the handlers
   * (the functions package's `depsContext`), so that several runtimes can share one process.
   */
  context?: Readonly<Record<string, unknown>>;
}

type BufferedFn = (event: unknown, context: unknown) => unknown;

/** The local HTTP server, and what it still runs after its responses have ended. */
export interface LocalServer extends Server {
  /**
   * Settles once every invocation started so far has returned. A streaming handler goes on after its
   * response ends (a reply's final write lands after the client has its last token), so whoever closes
   * the dependencies waits for this first, or that write would meet a closed database.
   */
  invocations(): Promise<void>;
}

/**
 * An HTTP server that runs the route table's Lambda handlers in-process, with the events, contexts and
 * response handling of API Gateway HTTP API (buffered routes) and RESPONSE_STREAM Function URLs
 * (streaming routes). `installAwsLambdaGlobal()` must have run before any route module loads.
 */
export function createLocalServer(options: LocalServerOptions): LocalServer {
  const logger = options.logger ?? consoleLogger;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const streamTimeoutMs = options.streamTimeoutMs ?? 900_000;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const match = createRouter(options.routes);
  const handlers = new Map<LocalRoute, Promise<unknown>>();

  // Each module is imported on first use, as a cold start would; a failed import is retried next time.
  const loadHandler = (route: LocalRoute): Promise<unknown> => {
    let p = handlers.get(route);
    if (!p) {
      p = route.load().then((m) => m.handler);
      p.catch(() => handlers.delete(route));
      handlers.set(route, p);
    }
    return p;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cors = corsHeaders(req);
    if (req.method === "OPTIONS") return writePreflight(req, res);
    if (options.extraRoutes && (await options.extraRoutes(req, res))) return;

    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const found = match(req.method ?? "GET", q === -1 ? url : url.slice(0, q));
    if (found.type === "not_found") {
      const e = errorBody("not_found_error", "Route not found");
      return sendJson(res, 404, e, { ...cors, "x-request-id": e.error.request_id });
    }
    if (found.type === "method_not_allowed") {
      const allow = [...found.allow, "OPTIONS"].join(", ");
      const e = errorBody("invalid_request_error", `Method ${req.method} not allowed`);
      return sendJson(res, 405, e, { ...cors, allow, "x-request-id": e.error.request_id });
    }

    const { route, params } = found;
    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (e) {
      if (e instanceof PayloadTooLargeError) {
        return sendJson(res, 413, { message: "Request Entity Too Large" }, { ...cors, connection: "close" });
      }
      return; // the client went away while uploading
    }

    let handler: unknown;
    try {
      handler = await loadHandler(route);
    } catch (e) {
      logger.error(`${route.name}: failed to load handler module`, e);
      return sendJson(res, 500, LAMBDA_ERROR_BODY, cors);
    }
    const streamingHandler = isStreamingHandler(handler) ? handler : undefined;
    if (typeof handler !== "function" || (streamingHandler && !route.streaming)) {
      // API Gateway cannot invoke a streamified handler; catch that wiring mistake here, not in AWS.
      logger.error(
        typeof handler !== "function"
          ? `${route.name}: module does not export a handler function`
          : `${route.name}: handler is wrapped in streamifyResponse but the route is not marked streaming`,
      );
      return sendJson(res, 500, LAMBDA_ERROR_BODY, cors);
    }

    const requestId = randomUUID();
    const source = route.streaming ? "function-url" : "http-api";
    const event = toApiGatewayEvent(req, body, route, params, {
      source,
      requestId,
      pathParametersOnFunctionUrl: options.pathParametersOnFunctionUrl ?? false,
    });
    const context = createLambdaContext({
      functionName: route.name,
      timeoutMs: route.streaming ? streamTimeoutMs : timeoutMs,
      // A Function URL's request id is the invocation's; API Gateway has its own.
      awsRequestId: route.streaming ? requestId : randomUUID(),
    });
    if (options.context) Object.assign(context, options.context);
    const headers: OutgoingHttpHeaders = { ...cors, [route.streaming ? "x-amzn-requestid" : "apigw-requestid"]: requestId };

    if (streamingHandler) {
      return invokeStreamingHandler(streamingHandler, event, context, res, {
        logger,
        headers,
        name: route.name,
        hideDisconnects: options.hideDisconnects ?? false,
      });
    }

    let result: unknown;
    try {
      result = await (handler as BufferedFn)(event, context);
    } catch (e) {
      logger.error(`${route.name}: handler failed`, e);
      // API Gateway answers a failed invocation with 500; a Function URL with 502.
      return sendJson(res, route.streaming ? 502 : 500, LAMBDA_ERROR_BODY, headers);
    }
    if (!writeProxyResult(res, result, headers)) logger.error(`${route.name}: malformed handler result (invalid statusCode)`);
  }

  // The request line is logged when the response closes; with the silent logger, nothing is watched.
  const logRequests = logger !== silentLogger;
  const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    if (logRequests) {
      const started = performance.now();
      res.once("close", () => {
        const ms = (performance.now() - started).toFixed(1);
        logger.info(`${req.method} ${req.url} ${res.headersSent ? res.statusCode : "-"} ${ms}ms${res.writableFinished ? "" : " (aborted)"}`);
      });
    }
    const invocation = handle(req, res).catch((e: unknown) => {
      logger.error("local runtime error", e);
      if (!res.headersSent) sendJson(res, 500, LAMBDA_ERROR_BODY);
      else res.destroy();
    });
    running.add(invocation);
    void invocation.finally(() => running.delete(invocation));
  });
  const running = new Set<Promise<void>>();
  // Keep idle connections longer than typical client pools do, so a reused socket is not closed under them.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return Object.assign(server, { invocations: () => Promise.all(running).then(() => {}) });
}

function errorBody(type: string, message: string) {
  return { error: { type, message, request_id: randomUUID() } };
}
