import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

// The playground is a static page (HTML, CSS, one script and an icon) that talks to the API like any
// client would; it is served only by the local runtime (deployed, it can be any static host pointed at
// the API and stream URLs). Its script imports markdown-it, DOMPurify and highlight.js from
// node_modules; esbuild bundles them into one file when this module loads, so the page needs no build
// step of its own and nothing comes from a CDN.
const file = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url));

/** The page's script with its libraries, as one minified browser file. */
export function bundleScript(): Buffer {
  const out = buildSync({
    entryPoints: [fileURLToPath(new URL("./playground.js", import.meta.url))],
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2022",
    platform: "browser",
    legalComments: "none",
    write: false,
    logLevel: "silent",
  });
  return Buffer.from(out.outputFiles[0]!.contents);
}

const html = { type: "text/html; charset=utf-8", body: file("playground.html") };
const icon = { type: "image/svg+xml", body: file("favicon.svg") };

const ASSETS: Record<string, { type: string; body: Buffer }> = {
  "/": html,
  "/playground": html,
  "/playground.css": { type: "text/css; charset=utf-8", body: file("playground.css") },
  "/playground.js": { type: "text/javascript; charset=utf-8", body: bundleScript() },
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
