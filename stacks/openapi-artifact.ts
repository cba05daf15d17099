// The API document is built on every deploy, from the same routes table and schemas the handlers
// use: a change that breaks the document fails the deploy before anything ships, and the deployed
// version's document is left beside the build output.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { buildOpenApiDocument, serializeDocument } from "../packages/functions/src/openapi";

export async function writeOpenApiArtifact(file: string): Promise<string> {
  const text = await withoutStubAwsLambdaGlobal(async () => serializeDocument(await buildOpenApiDocument()));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/**
 * The AWS SDK that SST loads (@aws/lambda-invoke-store) defines an empty `awslambda` global. The
 * document is built by loading the handler modules, and the stream handler would take that stub for
 * the Lambda streaming runtime and call its missing streamifyResponse. Hide the stub while they load.
 */
async function withoutStubAwsLambdaGlobal<T>(fn: () => Promise<T>): Promise<T> {
  const g = globalThis as { awslambda?: { streamifyResponse?: unknown } };
  const stub = g.awslambda;
  if (!stub || typeof stub.streamifyResponse === "function") return fn();
  delete g.awslambda;
  try {
    return await fn();
  } finally {
    g.awslambda ??= stub;
  }
}
