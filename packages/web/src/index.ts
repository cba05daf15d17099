import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";

// The playground is one static page that talks to the API like any client would; it is served only
// by the local runtime (deployed, it can be any static host pointed at the API and stream URLs).
const PAGE = readFileSync(new URL("./playground.html", import.meta.url));

/** Answers `GET /` (and `/playground`) with the playground page; returns false for anything else. */
export function servePlayground(req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" || (path !== "/" && path !== "/playground")) return false;
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache", "content-length": PAGE.length });
  res.end(PAGE);
  return true;
}
