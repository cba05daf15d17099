// `npm run openapi`: regenerates the committed openapi.json from the routes table and the handlers'
// zod schemas. tests/openapi checks that the committed file is current.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildOpenApiDocument, serializeDocument } from "../packages/functions/src/openapi";

const out = fileURLToPath(new URL("../openapi.json", import.meta.url));
writeFileSync(out, serializeDocument(await buildOpenApiDocument()));
console.log(`wrote ${out}`);
