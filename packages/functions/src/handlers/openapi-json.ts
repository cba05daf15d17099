import { buildOpenApiDocument, serializeDocument } from "../openapi";
import { bufferedHandler } from "../openapi/buffered";

// Built on the first request of a container and kept: the document only changes with a deploy.
let document: Promise<string> | undefined;

export const handler = bufferedHandler(async () => {
  document ??= buildOpenApiDocument()
    .then(serializeDocument)
    .catch((e) => {
      document = undefined;
      throw e;
    });
  return {
    statusCode: 200,
    headers: { "content-type": "application/json", "cache-control": "public, max-age=300" },
    body: await document,
  };
});
