// When and how long to wait before asking a rate-limited upstream again.

export interface RetryPolicy {
  /** Further attempts after the first (GROQ_MAX_RETRIES). */
  maxRetries: number;
  /** Total time all waits of one reply may add up to (GROQ_MAX_RETRY_WAIT_MS). */
  maxWaitMs: number;
}

/**
 * The wait the upstream asked for: `retry-after-ms` (OpenAI-style, what groq-sdk also honours), else
 * `retry-after` as seconds or an HTTP date. null when it said nothing usable.
 */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | null {
  const ms = Number.parseFloat(headers?.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get("retry-after");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : null;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/** Without a hint: 0.5 s, 1 s, 2 s … capped at 8 s, minus up to 25 % jitter so retries spread out. */
export function backoffMs(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 8_000) * (1 - Math.random() * 0.25);
}

/**
 * The wait before retry number `attempt + 1`, or null when the policy says stop: attempts used up, or
 * the wait would push the total past the budget (waiting part of it would be pointless: the upstream
 * said it will refuse until then).
 */
export function nextWait(policy: RetryPolicy, attempt: number, waitedMs: number, hintMs: number | null): number | null {
  if (attempt >= policy.maxRetries) return null;
  const wait = hintMs ?? backoffMs(attempt);
  return waitedMs + wait > policy.maxWaitMs ? null : wait;
}

/** A sleep that ends early, rejecting, when `signal` aborts (client gone, first-token timeout). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
