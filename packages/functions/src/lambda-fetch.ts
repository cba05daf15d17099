// What a Lambda bundle's code gets for the free identifiers `fetch`, `Headers` and `FormData`
// (esbuild's `inject`, stacks/bundling.ts): node-fetch, an implementation over node:http(s), instead of
// Node's own, which is undici. groq-sdk builds every request's headers with `new Headers()` and sends it
// with `fetch`, so with Node's globals the first reply of a cold start waits while Node compiles and
// evaluates undici (node:http2 included) and then undici's HTTP client and its WebAssembly parser: the
// largest single cost of a cold start (bench figure 5). Only bundles see these; `npm start` and the
// tests run the source with Node's globals.
//
// groq-sdk only tests a body against `FormData` (`instanceof`), and reads a response's status, headers
// and body (an async iterable of bytes: a Node stream here, a web stream under undici).
//
// Requests go through Node's global agents (keep-alive, no socket limit). node-fetch reports a chunked
// body whose socket closes before the terminating chunk as "Premature close"; its known false
// positives need a socket shared by queued requests, i.e. an agent with maxSockets
// (https://github.com/node-fetch/node-fetch/issues/1767), so none is given here.
export { default as fetch, FormData, Headers } from "node-fetch";
