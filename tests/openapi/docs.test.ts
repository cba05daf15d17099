// The API reference page and the document it shows, served by their own routes.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { routes } from "../../packages/functions/src/routes";
import { isDocsRoute } from "../../packages/functions/src/openapi";
import { startApp, type TestApp } from "../support/app";

const committed = JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8"));
// Paths come from the routes table, so the test holds whether or not these routes carry the API prefix.
const pathOf = (name: string) => routes.find((r) => r.name === name)!.path;

const CONTENT_TYPES: Record<string, RegExp> = {
  ".css": /^text\/css\b/,
  ".js": /^(text|application)\/javascript\b/,
  ".png": /^image\/png$/,
};

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app?.close());

describe("GET /openapi.json", () => {
  test("serves the committed document, with a request id", async () => {
    const res = await fetch(app.url + pathOf("openapi-json"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(await res.json()).toEqual(committed);
  });

  test("lists every route of the table except the docs routes, under its name", () => {
    for (const route of routes) {
      const op = committed.paths[route.path]?.[route.method.toLowerCase()];
      if (isDocsRoute(route)) expect(op, route.name).toBeUndefined();
      else expect(op?.operationId, `${route.method} ${route.path}`).toBe(route.name);
    }
    const operations = Object.values<any>(committed.paths).flatMap((item) => Object.values<any>(item));
    expect(operations.length).toBe(routes.filter((r) => !isDocsRoute(r)).length);
  });
});

describe("GET /docs", () => {
  test("serves Swagger UI pointed at the document, and every asset it references", async () => {
    const res = await fetch(app.url + pathOf("docs"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const html = await res.text();

    const url = /SwaggerUIBundle\(\{[\s\S]*?url:\s*"([^"]+)"/.exec(html)?.[1];
    expect(url).toBe(pathOf("openapi-json"));

    const assets = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const asset of assets) {
      expect(asset, "no CDN: assets come from this host").toMatch(/^\//);
      const r = await fetch(app.url + asset);
      expect(r.status, asset).toBe(200);
      const ext = asset.slice(asset.lastIndexOf("."));
      expect(r.headers.get("content-type"), asset).toMatch(CONTENT_TYPES[ext]!);
      const bytes = Buffer.from(await r.arrayBuffer());
      expect(bytes.length, asset).toBeGreaterThan(100);
      if (ext === ".png") expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
    }
    expect(assets.map((a) => a.slice(a.lastIndexOf("/") + 1))).toEqual(
      expect.arrayContaining(["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"]),
    );
  });

  test("serves only the viewer's own files", async () => {
    const docs = pathOf("docs");
    for (const file of ["package.json", "..%2Fpackage.json", "swagger-initializer.js"]) {
      const r = await fetch(`${app.url}${docs}/${file}`);
      expect(r.status, file).toBe(404);
      expect(((await r.json()) as { error: { type: string } }).error.type).toBe("not_found_error");
    }
  });
});
