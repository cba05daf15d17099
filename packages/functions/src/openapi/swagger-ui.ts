import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { notFound } from "@conversation-api/core";

// The viewer is served from the swagger-ui-dist package itself (no CDN): these are the files our page
// loads, with their content types. Only these names are served, so `{file}` can never escape the folder.
export const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "index.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

// Resolved at run time: in a deployed bundle swagger-ui-dist must be installed beside it (not bundled).
const distDir = () => dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

const cache = new Map<string, Promise<Buffer>>();

/** One asset's bytes, read once per container. */
export function readAsset(file: string): Promise<Buffer> {
  if (!Object.hasOwn(ASSETS, file)) throw notFound("File");
  let bytes = cache.get(file);
  if (!bytes) cache.set(file, (bytes = readFile(join(distDir(), file))));
  return bytes;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page: the package's own index.html layout, configured to load our document. */
export function docsPage(assetBase: string, documentUrl: string): string {
  const a = (file: string) => escapeHtml(`${assetBase}/${file}`);
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>conversation-api · API reference</title>
    <link rel="stylesheet" type="text/css" href="${a("swagger-ui.css")}" />
    <link rel="stylesheet" type="text/css" href="${a("index.css")}" />
    <link rel="icon" type="image/png" href="${a("favicon-32x32.png")}" sizes="32x32" />
    <link rel="icon" type="image/png" href="${a("favicon-16x16.png")}" sizes="16x16" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${a("swagger-ui-bundle.js")}" charset="UTF-8"></script>
    <script src="${a("swagger-ui-standalone-preset.js")}" charset="UTF-8"></script>
    <script>
      window.onload = function () {
        window.ui = SwaggerUIBundle({
          url: ${JSON.stringify(documentUrl).replace(/</g, "\\u003c")},
          dom_id: "#swagger-ui",
          deepLinking: true,
          presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
          plugins: [SwaggerUIBundle.plugins.DownloadUrl],
          layout: "StandaloneLayout",
        });
      };
    </script>
  </body>
</html>
`;
}
