import middy from "@middy/core";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { Readable } from "node:stream";
import type { z } from "zod";
import type { PublicError } from "@conversation-api/core";
import type { Deps } from "./deps";
import { accessLog } from "./middleware/access-log";
import { credentialAuth } from "./middleware/auth";
import { methodGuard } from "./middleware/method-guard";
import { errorResponses } from "./middleware/errors";
import { jsonBody } from "./middleware/json-body";
import { requestContext } from "./middleware/request-context";
import type { ApiContext, ApiMiddleware, ApiResult, Principal } from "./middleware/types";
import { validate } from "./middleware/validate";
import { credentialOf, withCredential } from "./postgrest-credential";
import { REPLY_MAX_DURATION_SECONDS } from "./reply-window";
import { routeOf } from "./route-table";

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler declares. Its route's auth and path come from the routes table (one source). */
export interface HandlerOptions<B, Q, P, H = undefined> {
  /** One line for the API document. */
  summary: string;
  body?: B;
  query?: Q;
  params?: P;
  /** Headers the endpoint reads (a z.object with lower-case names). */
  headers?: H;
  /** Status of a successful response (a handler that returns undefined answers 204). */
  status?: number;
  /** Schema of the successful response body (absent for 204 and for the event stream). */
  response?: z.ZodType;
  /** Error statuses this endpoint can answer besides those implied by auth, body and params. */
  errors?: number[];
  /** Other media types the success response may have (the handler returns a `TextBody` for them). */
  representations?: Record<string, z.ZodType>;
  /** A streaming route's body in another wire format than our SSE: its description and part schema. */
  stream?: { description: string; schema: z.ZodType };
  /** A streaming route that may answer 204 instead (its handler returns null): when, for the document. */
  noContent?: string;
  /** A body limit above MAX_BODY_BYTES, for a format whose clients resend what the server keeps. */
  maxBodyBytes?: number;
  /** Errors in another API's shape (the Anthropic and OpenAI formats); ours without it. */
  errorFormat?: ErrorFormat;
  /** Request bodies Swagger UI offers to try, by name (each must pass `body`: the API document's test checks it). */
  examples?: Record<string, { summary: string; value: unknown }>;
}

/** How a wire format answers an error: its status and body for our public error, and the body's schema. */
export interface ErrorFormat {
  render(e: PublicError, requestId: string): { status: number; body: unknown };
  schema: z.ZodType;
  /** The status this format answers for one of ours (the API document lists these). */
  statusOf(status: number): number;
}

/** A non-JSON success body a jsonHandler may return (a spec's `representations` documents it). */
export class TextBody {
  constructor(
    readonly contentType: string,
    readonly body: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** The options plus what the routes table says about the route. */
export interface HandlerSpec<B, Q, P, H = undefined> extends HandlerOptions<B, Q, P, H> {
  route: string;
  auth: boolean;
  sessionOnly: boolean;
  /** The route's path template; needed where events carry no pathParameters (the Function URL). */
  path: string;
}

function specOf<B, Q, P, H>(route: string, options: HandlerOptions<B, Q, P, H>): HandlerSpec<B, Q, P, H> {
  const r = routeOf(route);
  return { ...options, route, auth: r.auth, sessionOnly: r.sessionOnly === true, path: r.path };
}

export interface HandlerInput<B, Q, P, H = undefined> {
  body: Infer<B>;
  query: Infer<Q>;
  params: Infer<P>;
  headers: Infer<H>;
  /** Set whenever the route has `auth: true`. */
  userId: string;
  /** Set whenever the route has `auth: true`. */
  principal: Principal;
  deps: Deps;
  event: APIGatewayProxyEventV2;
  context: ApiContext;
}

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };

function middlewares(spec: HandlerSpec<unknown, unknown, unknown, unknown>, streaming = false): ApiMiddleware[] {
  const chain: ApiMiddleware[] = [accessLog(), requestContext(), errorResponses(spec.errorFormat)];
  if (streaming) chain.push(methodGuard(spec.path));
  // Credentials before the body: without them the answer is 401 whatever the body is.
  // A stream saves its reply at the end with the caller's credential: it must last the whole reply.
  if (spec.auth) chain.push(credentialAuth({ sessionOnly: spec.sessionOnly, mustOutlastSeconds: streaming ? REPLY_MAX_DURATION_SECONDS : undefined }));
  if (spec.body) chain.push(jsonBody(spec.maxBodyBytes));
  chain.push(validate(spec as never));
  return chain;
}

const inputOf = <B, Q, P, H>(event: APIGatewayProxyEventV2, context: ApiContext): HandlerInput<B, Q, P, H> => ({
  body: context.input?.body as Infer<B>,
  query: context.input?.query as Infer<Q>,
  params: context.input?.params as Infer<P>,
  headers: context.input?.headers as Infer<H>,
  userId: context.userId!,
  principal: context.principal!,
  // Signed-in requests reach the store with their own credential (see postgrest-credential.ts).
  deps: context.userId ? withCredential(context.deps, credentialOf(event, context)) : context.deps,
  event,
  context,
});

/** A JSON endpoint behind API Gateway: middleware chain, then `fn`, then the JSON response. */
export function jsonHandler<B = undefined, Q = undefined, P = undefined>(
  route: string,
  options: HandlerOptions<B, Q, P>,
  fn: (input: HandlerInput<B, Q, P>) => Promise<unknown>,
) {
  const spec = specOf(route, options);
  const handler = middy<APIGatewayProxyEventV2, ApiResult, Error, ApiContext>()
    .use(middlewares(spec as HandlerSpec<unknown, unknown, unknown, unknown>))
    .handler(async (event, context): Promise<ApiResult> => {
      const result = await fn(inputOf<B, Q, P, undefined>(event, context));
      if (result === undefined) return { statusCode: 204, headers: { "cache-control": "no-store" } };
      if (result instanceof TextBody)
        return { statusCode: spec.status ?? 200, headers: { ...result.headers, "content-type": result.contentType, "cache-control": "no-store" }, body: result.body };
      return { statusCode: spec.status ?? 200, headers: JSON_HEADERS, body: JSON.stringify(result) };
    });
  return Object.assign(handler, { spec: spec as HandlerSpec<unknown, unknown, unknown, unknown> });
}

/** True where the Lambda runtime (or our local runtime) offers response streaming; false under `sst dev`. */
// The AWS SDK defines an empty `awslambda` outside Lambda, so look for the function itself.
export const canStream = () =>
  typeof (globalThis as { awslambda?: { streamifyResponse?: unknown } }).awslambda?.streamifyResponse === "function";

/** What a streaming route returns once its checks passed: like Hono's streamSSE, headers and a body writer. */
export interface StreamBody {
  headers: Record<string, string>;
  /**
   * Writes the body through `write`; resolves when its work is over. The body is complete when `end`
   * is called or, without a call, when `run` resolves: what `run` does after `end` (a title) no longer
   * keeps the client waiting. `signal` aborts when the client disconnects, where the runtime reports
   * that (our local runtime by default; never Lambda).
   */
  run(write: (chunk: string) => void, signal: AbortSignal, end: () => void): Promise<unknown>;
}

/**
 * A streaming endpoint on a Function URL. Errors before the stream starts are ordinary JSON responses
 * (Middy writes them through the same response stream), and so is a 204 where `fn` finds nothing to
 * stream (null). Where streaming is unavailable (`sst dev`'s local worker) the same handler buffers the
 * whole body instead.
 */
export function streamHandler<B = undefined, Q = undefined, P = undefined, H = undefined>(
  route: string,
  options: HandlerOptions<B, Q, P, H>,
  fn: (input: HandlerInput<B, Q, P, H>) => Promise<StreamBody | null>,
) {
  const spec = specOf(route, options);
  const streaming = canStream();
  // Middy awaits requestEnd after the response stream ended, inside the handler's promise, and the
  // Lambda runtime takes the next invocation only once that promise settles (aws-lambda-ric's
  // handleOnceStreaming): the client has its whole response while the invocation finishes its work.
  const requestEnd = async (request: { context: unknown }) => (request.context as ApiContext).afterResponse;
  const handler = middy<APIGatewayProxyEventV2, ApiResult, Error, ApiContext>({ streamifyResponse: streaming, requestEnd })
    .use(middlewares(spec as HandlerSpec<unknown, unknown, unknown, unknown>, true))
    .handler(async (event, context): Promise<ApiResult> => {
      const answer = await fn(inputOf<B, Q, P, H>(event, context));
      if (answer === null) return { statusCode: 204, headers: { "cache-control": "no-store" } };
      const { headers, run } = answer;
      const { body, done } = bridge(run);
      context.afterResponse = done;
      return { statusCode: 200, headers, body: streaming ? body : await collect(body) };
    });
  return Object.assign(handler, { spec: spec as HandlerSpec<unknown, unknown, unknown, unknown> });
}

/**
 * The Readable Middy pipes into the response stream. The runtime destroys it when the client
 * disconnects (where it can tell): the destroy is held until `run` is over, because the invocation must
 * not end (and the container freeze) before the reply is stored. Middy's pipeline reads it as fast as
 * the response stream takes bytes, which is where backpressure lives; a model cannot be slowed, so what
 * a slow client has not taken yet waits here.
 *
 * Writes made in one turn of the event loop (several tokens decoded from one upstream read, or an event
 * and its block start) are joined and pushed once, at the end of that turn: one trip through the
 * pipeline and one socket write instead of one per event. The Readable keeps strings as strings
 * (`encoding`), so nothing is copied into a Buffer on the way to the socket.
 */
export function bridge(run: StreamBody["run"]): { body: Readable; done: Promise<unknown> } {
  const gone = new AbortController();
  let finished: Promise<unknown> = Promise.resolve();
  let pending = "";
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const chunk = pending;
    pending = "";
    if (chunk !== "" && !out.destroyed) out.push(chunk);
  };
  const out = new Readable({
    encoding: "utf8",
    read() {},
    destroy(err, callback) {
      gone.abort();
      finished.then(() => callback(err), callback);
    },
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    flush();
    if (!out.destroyed) out.push(null);
  };
  const write = (chunk: string) => {
    if (out.destroyed || ended) return;
    pending += chunk;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  finished = run(write, gone.signal, end)
    // `run` reports its own failures as events; this is a database failure while following a reply.
    .catch((e: unknown) => console.error(JSON.stringify({ level: "error", event: "stream_failed", error: String((e as Error)?.name ?? e) })))
    .finally(end);
  return { body: out, done: finished };
}

async function collect(body: Readable): Promise<string> {
  let out = "";
  for await (const chunk of body) out += String(chunk);
  return out;
}
