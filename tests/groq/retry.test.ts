// The retry policy's arithmetic: which hint wins, and when waiting stops.
import { describe, expect, it } from "vitest";
import { backoffMs, nextWait, retryAfterMs } from "../../packages/functions/src/providers/retry";

describe("retryAfterMs", () => {
  const h = (o: Record<string, string>) => new Headers(o);
  it("reads retry-after-ms first, then retry-after as seconds or an HTTP date", () => {
    expect(retryAfterMs(h({ "retry-after-ms": "250", "retry-after": "9" }))).toBe(250);
    expect(retryAfterMs(h({ "retry-after": "2" }))).toBe(2000);
    expect(retryAfterMs(h({ "retry-after": "0.5" }))).toBe(500);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs(h({ "retry-after": "Thu, 01 Jan 2026 00:00:03 GMT" }), now)).toBe(3000);
    expect(retryAfterMs(h({ "retry-after": "soon" }))).toBeNull();
    expect(retryAfterMs(h({}))).toBeNull();
    expect(retryAfterMs(undefined)).toBeNull();
  });
});

describe("nextWait", () => {
  const policy = { maxRetries: 2, maxWaitMs: 1000 };
  it("stops after maxRetries retries", () => {
    expect(nextWait(policy, 0, 0, 10)).toBe(10);
    expect(nextWait(policy, 1, 10, 10)).toBe(10);
    expect(nextWait(policy, 2, 20, 10)).toBeNull();
  });
  it("stops when the wait would take the total past maxWaitMs, rather than wait part of it", () => {
    expect(nextWait(policy, 0, 0, 1000)).toBe(1000);
    expect(nextWait(policy, 0, 0, 1001)).toBeNull();
    expect(nextWait(policy, 1, 600, 500)).toBeNull();
  });
  it("backs off exponentially with jitter below the step when there is no hint", () => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const step = Math.min(500 * 2 ** attempt, 8000);
      const ms = backoffMs(attempt);
      expect(ms).toBeGreaterThan(step * 0.74);
      expect(ms).toBeLessThanOrEqual(step);
    }
  });
});
