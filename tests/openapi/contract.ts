// Checks real responses against the OpenAPI document with a JSON Schema 2020-12 validator (Ajv 2020),
// which is the dialect OpenAPI 3.1 schemas use. Schemas are looked up inside the document by JSON
// pointer, so `$ref`s resolve exactly as a client generator would resolve them.
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { OpenApiDocument } from "../../packages/functions/src/openapi";

const DOC_ID = "urn:conversation-api:openapi";
// ajv-formats is CommonJS with a default export; under ESM interop it can arrive wrapped.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;

const pointer = (...parts: string[]) => parts.map((p) => encodeURIComponent(p.replace(/~/g, "~0").replace(/\//g, "~1"))).join("/");

/** A strict 2020-12 validator that knows the document; `discriminator` is OpenAPI's annotation. */
export function schemaValidator(doc: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  ajv.addKeyword({ keyword: "discriminator", schemaType: "object" });
  // The document is added as the root so that its `#/components/...` refs resolve; its own top-level
  // fields are declared as inert keywords, so strict mode still rejects any unknown keyword inside
  // the schemas themselves.
  for (const keyword of Object.keys(doc)) ajv.addKeyword({ keyword });
  ajv.addSchema({ ...doc, $id: DOC_ID } as never, undefined, undefined, false);
  const cache = new Map<string, ValidateFunction>();
  return (...path: string[]): ValidateFunction => {
    const ref = `${DOC_ID}#/${pointer(...path)}`;
    let fn = cache.get(ref);
    if (!fn) cache.set(ref, (fn = ajv.compile({ $ref: ref })));
    return fn;
  };
}
