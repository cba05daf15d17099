// The NUL rule for headers a route reads. Over HTTP, Node's parser refuses such a header itself (see
// tests/access/nul.test.ts); an event built by API Gateway or a Function URL is checked here.
import { AppError, ResumeHeaders, StreamHeaders } from "@conversation-api/core";
import { describe, expect, it } from "vitest";
import type { ApiRequest } from "../src/middleware/types";
import { validate } from "../src/middleware/validate";

const run = (schemas: Parameters<typeof validate>[0], headers: Record<string, string>) => {
  const request = { event: { headers, rawPath: "/" }, context: {} } as unknown as ApiRequest;
  return (async () => {
    await validate(schemas).before!(request);
    return request;
  })();
};

describe("validate: NUL in headers", () => {
  it("refuses NUL in a header the route reads with a 422 naming it", async () => {
    for (const [schema, name] of [
      [ResumeHeaders, "last-event-id"],
      [StreamHeaders, "idempotency-key"],
    ] as const) {
      const e = await run({ headers: schema }, { [name]: "1\u00002", "user-agent": "x" }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).status).toBe(422);
      expect((e as AppError).fields).toEqual([{ path: `header.${name}`, message: expect.stringMatching(/NUL/) }]);
    }
  });

  it("ignores headers the route does not read", async () => {
    const request = await run({ headers: ResumeHeaders }, { "last-event-id": "7", "x-other": "a\u0000b" });
    expect(request.context.input?.headers).toEqual({ "last-event-id": "7" });
  });
});
