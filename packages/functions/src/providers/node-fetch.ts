// groq-sdk's requests sent with node:http(s) and a keep-alive agent instead of the global fetch. A
// streamed answer is then read as the Node stream it arrives as (the IncomingMessage), not through
// undici's WHATWG ReadableStream, whose reads cost every token about a third more of the event loop
// (13.2 against 9.5 µs of CPU per chunk in a loopback micro-benchmark). Everything groq-sdk reads
// itself (an error's body, a non-streamed answer, the model list) is a whole, ordinary Response.
// The modules come from process.getBuiltinModule: an ES import of node:http would evaluate undici's
// exports at cold start (see ssm.ts).
import type { IncomingMessage } from "node:http";

type Http = typeof import("node:http");
type Https = typeof import("node:https");

/** The Node stream of each streamed Response this fetch made; its `body` is null. */
const streams = new WeakMap<Response, IncomingMessage>();

/** The body of a Response from `nodeFetch` as a Node stream (async iterable of Buffers), if it is one. */
export const nodeBodyOf = (response: Response): AsyncIterable<Uint8Array> | undefined => streams.get(response);

const abortError = (signal: AbortSignal): unknown =>
  signal.reason instanceof Error && signal.reason.name !== "AbortError" ? signal.reason : new DOMException("This operation was aborted", "AbortError");

/** A fetch for groq-sdk (its `fetch` option): one keep-alive agent per protocol, made on first use. */
export function nodeFetch(): typeof fetch {
  let agents: { http: InstanceType<Http["Agent"]>; https: InstanceType<Https["Agent"]> } | undefined;
  return async (input, init = {}) => {
    const body = init.body;
    // Only what groq-sdk sends for chat (a JSON string, or nothing); anything else goes to fetch.
    if (input instanceof Request || (body !== undefined && body !== null && typeof body !== "string")) return fetch(input, init);
    const url = new URL(String(input));
    const http = process.getBuiltinModule("node:http") as Http;
    const https = process.getBuiltinModule("node:https") as Https;
    agents ??= { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
    const secure = url.protocol === "https:";
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    if (typeof body === "string") headers["content-length"] = String(Buffer.byteLength(body));
    const signal = init.signal ?? undefined;
    if (signal?.aborted) throw abortError(signal);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (secure ? https : http).request(url, { method: init.method ?? "GET", headers, agent: secure ? agents!.https : agents!.http }, resolve);
      const onAbort = () => req.destroy(abortError(signal!) as Error);
      signal?.addEventListener("abort", onAbort, { once: true });
      // After the head, an abort ends the body (the reader sees the error); the listener goes with it.
      req.once("response", (r: IncomingMessage) => r.once("close", () => signal?.removeEventListener("abort", onAbort)));
      req.once("error", (e) => {
        signal?.removeEventListener("abort", onAbort);
        // As fetch reports a network failure: a TypeError with the cause (groq-sdk's APIConnectionError).
        reject(signal?.aborted ? abortError(signal) : new TypeError("fetch failed", { cause: e }));
      });
      req.end(body ?? undefined);
    });
    const responseHeaders = new Headers();
    for (let i = 0; i < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
    const status = res.statusCode ?? 502;
    const init2 = { status, statusText: res.statusMessage ?? "", headers: responseHeaders };
    if (status >= 200 && status < 300 && (res.headers["content-type"] ?? "").includes("text/event-stream")) {
      const response = new Response(null, init2);
      streams.set(response, res);
      return response;
    }
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    // A body is not allowed with these statuses.
    return new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), init2);
  };
}
