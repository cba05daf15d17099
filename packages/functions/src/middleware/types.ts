import type { MiddlewareObj, Request } from "@middy/core";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import type { Deps, DepsContext } from "../deps";

/** What our middlewares add to the Lambda context for the handler and for each other. */
export interface ApiContext extends Context, DepsContext {
  requestId: string;
  receivedAt: number;
  deps: Deps;
  userId?: string;
  /** Who is calling and with what credential (set by the auth middleware on `auth` routes). */
  principal?: Principal;
  input?: { body: unknown; query: unknown; params: unknown; headers: unknown };
  /**
   * Work a streaming handler still does after its response ended (a conversation's title): the
   * invocation lasts until it settles, so the sandbox is never frozen with a write in flight.
   */
  afterResponse?: Promise<unknown>;
}

export interface Principal {
  userId: string;
  kind: "session" | "api_key";
  /** The raw credential presented (access token or API key). */
  bearer: string;
  /** An API key on Supabase: the short token the exchange function minted for it (token-exchange.ts). */
  accessToken?: string;
}

export interface ApiResult {
  statusCode: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type ApiRequest = Request<APIGatewayProxyEventV2, ApiResult, Error, ApiContext>;
export type ApiMiddleware = MiddlewareObj<APIGatewayProxyEventV2, ApiResult, Error, ApiContext>;

export const header = (event: APIGatewayProxyEventV2, name: string): string | undefined => event.headers?.[name];
