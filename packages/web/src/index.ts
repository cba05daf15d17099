import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";

// The playground is a static page (HTML, CSS, one script and an icon) that talks to the API like any
// client would; it is served only by the local runtime (deployed, it can be any static host pointed at
// the API and stream URLs). Files are read once, at import.
const file = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url));
const html = { type: "text/html; charset=utf-8", body: file("playground.html") };
const icon = { type: "image/svg+xml", body: file("favicon.svg") };

const ASSETS: Record<string, { type: string; body: Buffer }> = {
  "/": html,
  "/playground": html,
  "/playground.css": { type: "text/css; charset=utf-8", body: file("playground.css") },
  "/playground.js": { type: "text/javascript; charset=utf-8", body: file("playground.js") },
  // Browsers ask for /favicon.ico whatever the page says; an SVG under that name is accepted.
  "/favicon.ico": icon,
  "/favicon.svg": icon,
};

/** Answers the playground's own paths (`/`, its assets, the favicon); returns false for anything else. */
export function servePlayground(req: IncomingMessage, res: ServerResponse): boolean {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const asset = ASSETS[path];
  if (!asset || (req.method !== "GET" && req.method !== "HEAD")) return false;
  res.writeHead(200, { "content-type": asset.type, "cache-control": "no-cache", "content-length": asset.body.length });
  res.end(req.method === "HEAD" ? undefined : asset.body);
  return true;
}
