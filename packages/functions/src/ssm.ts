// SSM GetParameters for a cold start, signed with SigV4 by `aws4` (node:crypto) and sent with
// node:http(s). Neither `fetch` nor WebCrypto is touched: Node compiles its fetch implementation
// (undici, and its WebAssembly HTTP parser) on first use, ~25 ms of a cold start's CPU, and WebCrypto's
// HMAC chain is a string of thread-pool round trips. The Groq call compiles undici anyway, later, while
// the database works (bench figure 5).
import type { IncomingMessage } from "node:http";
import aws4 from "aws4";

// Not `import … from "node:http"`: on Node 24 an ES import of node:http reads every export, and its
// WebSocket/EventSource exports load undici then and there, the cost this module exists to avoid.
const http = () => process.getBuiltinModule("node:http");
const https = () => process.getBuiltinModule("node:https");

export interface SsmCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

interface GetParametersOutput {
  Parameters?: { Name?: string; Value?: string }[];
  InvalidParameters?: string[];
  __type?: string;
  message?: string;
}

/** Retried: throttling, 5xx and broken connections (as the AWS SDK's standard retry mode does). */
const RETRIES = 3;
const retryable = (status: number, type: string | undefined) =>
  status >= 500 || status === 429 || /Throttl|TooManyUpdates|RequestLimitExceeded/.test(type ?? "");

/** One GetParameters call (at most 10 names, SSM's limit), with decryption. */
export async function getParametersOnce(
  endpoint: string,
  region: string,
  credentials: SsmCredentials,
  names: string[],
): Promise<GetParametersOutput> {
  const url = new URL(endpoint);
  const body = JSON.stringify({ Names: names, WithDecryption: true });
  for (let attempt = 0; ; attempt++) {
    // Signed per attempt: the signature carries the time.
    const signed = aws4.sign(
      {
        service: "ssm",
        region,
        method: "POST",
        host: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname || "/",
        headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AmazonSSM.GetParameters" },
        body,
      },
      credentials,
    );
    let status = 0;
    let out: GetParametersOutput = {};
    let failure: unknown;
    try {
      ({ status, out } = await send(url, signed.headers as Record<string, string>, body));
    } catch (e) {
      failure = e;
    }
    if (!failure && status >= 200 && status < 300) return out;
    if (attempt >= RETRIES || (!failure && !retryable(status, out.__type))) {
      if (failure) throw failure;
      throw new Error(`SSM GetParameters failed: ${status} ${out.__type ?? ""} ${out.message ?? ""}`.trim());
    }
    // Full jitter, 50 ms base (the SDK's default is 100 ms; a cold start waits on this).
    await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** attempt));
  }
}

function send(url: URL, headers: Record<string, string>, body: string): Promise<{ status: number; out: GetParametersOutput }> {
  const request = url.protocol === "http:" ? http().request : https().request;
  return new Promise((resolve, reject) => {
    const req = request(
      { protocol: url.protocol, hostname: url.hostname, port: url.port || undefined, path: url.pathname || "/", method: "POST", headers, timeout: 10_000 },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          let out: GetParametersOutput = {};
          try {
            out = JSON.parse(Buffer.concat(chunks).toString("utf8")) as GetParametersOutput;
          } catch {
            // Not JSON (a proxy's error page): the status says what went wrong.
          }
          resolve({ status: res.statusCode ?? 0, out });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("SSM GetParameters timed out")));
    req.on("error", reject);
    req.end(body);
  });
}
