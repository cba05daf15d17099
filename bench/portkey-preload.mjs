// Preloaded into the Portkey gateway's process (node --import): on Node, the gateway adds its
// x-portkey-* headers to the upstream's fetch Response, whose headers the fetch standard makes
// immutable, and every request fails with "TypeError: immutable" (Portkey-AI/gateway#1389, #1550).
// Re-wrapping the upstream response once per request with a copy of its headers lets it run as
// designed; the body stream is handed over untouched, so nothing changes per token.
const upstreamFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const res = await upstreamFetch(...args);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: new Headers(res.headers) });
};
