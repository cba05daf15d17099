import { randomUUID } from "node:crypto";
import { depsOf } from "../deps";
import type { ApiMiddleware } from "./types";

/**
 * First in every chain: the request id (API Gateway's own, so our logs and its access logs agree), the
 * arrival time that latency is measured from, and the dependencies: those the runtime passed in the
 * context (the local runtime, tests), else the Lambda container's own.
 */
export const requestContext = (): ApiMiddleware => ({
  before: async (request) => {
    request.context.receivedAt = performance.now();
    request.context.requestId = request.event.requestContext?.requestId || randomUUID();
    request.context.deps = await depsOf(request.context);
  },
  after: (request) => {
    const res = request.response;
    if (res) res.headers = { ...res.headers, "x-request-id": request.context.requestId };
  },
});
