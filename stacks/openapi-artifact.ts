// The API document is built on every deploy, from the same routes table and schemas the handlers
// use: a change that breaks the document fails the deploy before anything ships, and the deployed
// version's document is left beside the build output.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { buildOpenApiDocument, serializeDocument } from "../packages/functions/src/openapi";

export async function writeOpenApiArtifact(file: string): Promise<string> {
  const text = serializeDocument(await buildOpenApiDocument());
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}
