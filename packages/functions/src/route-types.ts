import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";

export type RouteSecret = "signing-key" | "secret-key" | "model-key";

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

/** A buffered handler: API Gateway HTTP API (payload 2.0) in, structured result out. */
export type BufferedHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * One endpoint. `name` is also the handler file (`src/handlers/<name>.ts`, export `handler`) and the
 * Lambda function's logical name, so the local runtime, the SST stack and the OpenAPI document all
 * read this one list.
 */
export interface RouteDef {
  name: string;
  method: HttpMethod;
  /** API Gateway route syntax: `/api/v1/conversations/{id}`. */
  path: string;
  /** Served from a Lambda Function URL in RESPONSE_STREAM mode (handler wrapped by awslambda.streamifyResponse). */
  streaming: boolean;
  /** Mounted at the host root instead of under API_PREFIX (the docs, the OpenAPI document, the wire formats). */
  prefix?: boolean;
  /**
   * A streaming route served on another streaming route's Function URL (that route's function
   * dispatches to it: wire/url-group.ts), so that a wire format's routes share one base URL. It gets no
   * function of its own.
   */
  servedBy?: string;
  /** Requires a credential: an access token or (unless `sessionOnly`) an API key. */
  auth: boolean;
  /** Only a signed-in session (access token) will do: API keys cannot manage keys or the password. */
  sessionOnly?: boolean;
  /**
   * The secrets this route's function may hold (stacks/secret-policy.ts); absent means none. Only ask
   * for what the handler uses: each is bound only to the functions whose routes list it.
   *  - "signing-key": issues access tokens (JWT_PRIVATE_KEY; JWT_SECRET on legacy deploys)
   *  - "secret-key": the Store's server-privileged operations, which bypass RLS (SUPABASE_SECRET_KEY):
   *    accounts, sessions, login throttling, password hashes, API-key checks. This is the one record
   *    of which routes use them; on Supabase a route without it cannot (see store/supabase/store.ts).
   *  - "model-key": calls the model (GROQ_API_KEY)
   */
  holds?: readonly RouteSecret[];
  load: () => Promise<{ handler: unknown }>;
}
