import { bufferedHandler } from "../openapi/buffered";
import { ASSETS, docsPage, readAsset } from "../openapi/swagger-ui";

// Serves both `GET /docs` (the Swagger UI page) and `GET /docs/{file}` (its assets). Links are built
// from the path the request arrived on, so the page works whether or not the routes carry the API
// prefix: `/docs` → assets under `/docs/`, document at `/openapi.json`.
export const handler = bufferedHandler(async (event) => {
  const file = event.pathParameters?.file;
  if (file !== undefined) {
    const bytes = await readAsset(file);
    const type = ASSETS[file]!;
    const text = !type.startsWith("image/");
    return {
      statusCode: 200,
      headers: { "content-type": type, "cache-control": "public, max-age=3600" },
      body: text ? bytes.toString("utf8") : bytes.toString("base64"),
      isBase64Encoded: !text,
    };
  }
  const base = (event.rawPath || "/docs").replace(/\/+$/, "");
  return {
    statusCode: 200,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
    body: docsPage(base, base.replace(/\/docs$/, "/openapi.json")),
  };
});
