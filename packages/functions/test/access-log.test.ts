// One JSON access record per request: request id, route, status, duration, user id, never a credential;
// on Lambda through console.info (the JSON log format wraps it), locally in the same shape on stdout.
import { afterEach, describe, expect, it, vi } from "vitest";
import { accessRecord, writeAccessRecord } from "../src/middleware/access-log";
import type { ApiRequest } from "../src/middleware/types";

afterEach(() => vi.restoreAllMocks());

const TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
const request = {
  event: {
    routeKey: "GET /api/v1/conversations",
    rawPath: "/api/v1/conversations",
    headers: { authorization: `Bearer ${TOKEN}`, "x-api-key": "cak_secret" },
    body: '{"password":"hunter22"}',
    requestContext: { http: { method: "GET" } },
  },
  context: { requestId: "req-1", receivedAt: performance.now() - 12, userId: "9b2f6a8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b" },
  response: { statusCode: 200 },
} as unknown as ApiRequest;

describe("access log", () => {
  it("records request id, route, status, duration and user id, and nothing from headers or body", () => {
    const record = accessRecord(request);
    expect(record).toEqual({ type: "access", request_id: "req-1", route: "GET /api/v1/conversations", status: 200, duration_ms: expect.any(Number), user_id: request.context.userId });
    expect(record.duration_ms).toBeGreaterThanOrEqual(0);
    const text = JSON.stringify(record);
    for (const secret of [TOKEN, "cak_secret", "hunter22"]) expect(text).not.toContain(secret);
  });

  it("names a Function URL request by method and path", () => {
    const url = { ...request, event: { ...request.event, routeKey: "$default" } } as ApiRequest;
    expect(accessRecord(url).route).toBe("GET /api/v1/conversations");
  });

  it("hands the object to console.info under Lambda's JSON log format", () => {
    const info = vi.spyOn(console, "info").mockImplementation(() => {});
    const record = accessRecord(request);
    writeAccessRecord(record, { AWS_LAMBDA_LOG_FORMAT: "JSON" });
    expect(info).toHaveBeenCalledWith(record);
  });

  it("prints Lambda's JSON shape locally with ACCESS_LOG=1, and nothing without it", () => {
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const record = accessRecord(request);
    writeAccessRecord(record, {});
    expect(out).not.toHaveBeenCalled();
    writeAccessRecord(record, { ACCESS_LOG: "1" }, "aws-req-1");
    const line = JSON.parse(String(out.mock.calls[0]![0]));
    expect(line).toEqual({ timestamp: expect.any(String), level: "INFO", requestId: "aws-req-1", message: record });
  });
});
