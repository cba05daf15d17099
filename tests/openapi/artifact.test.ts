// The committed openapi.json is current, and it is a valid OpenAPI 3.1 document.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import { StreamEvents } from "@conversation-api/core";
import { describe, expect, test } from "vitest";
import { buildOpenApiDocument, eventSchemaName, serializeDocument } from "../../packages/functions/src/openapi";
import { schemaValidator } from "./contract";
import { routeTable } from "../../packages/functions/src/route-table";

const committedText = readFileSync(new URL("../../openapi.json", import.meta.url), "utf8");
const committed = JSON.parse(committedText);

describe("openapi.json", () => {
  test("is what the schemas generate now", async () => {
    const generated = serializeDocument(await buildOpenApiDocument());
    // Compare parsed first for a readable diff, then the text (key order, indentation, final newline).
    expect(committed, "openapi.json is out of date: run `npm run openapi` and commit the result").toEqual(JSON.parse(generated));
    expect(committedText === generated, "openapi.json is not formatted as generated: run `npm run openapi`").toBe(true);
  });

  test("generating twice gives the same text", async () => {
    expect(serializeDocument(await buildOpenApiDocument())).toBe(serializeDocument(await buildOpenApiDocument()));
  });

  test("passes an OpenAPI 3.1 schema validator", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(committed));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  // The structural validator above does not look inside Schema Objects; Ajv checks each one against
  // the 2020-12 meta-schema and, in strict mode, rejects any keyword it does not know.
  test("every component schema compiles as strict JSON Schema 2020-12", () => {
    const schema = schemaValidator(committed);
    for (const name of Object.keys(committed.components.schemas)) expect(() => schema("components", "schemas", name), name).not.toThrow();
  });

  test("names the main shapes and every SSE event", () => {
    const names = Object.keys(committed.components.schemas);
    expect(names).toEqual(expect.arrayContaining(["User", "Conversation", "Message", "ErrorBody", "TokenResponse", "StreamEvent"]));
    const mapping = committed.components.schemas.StreamEvent.discriminator.mapping;
    for (const event of Object.keys(StreamEvents)) {
      expect(names).toContain(eventSchemaName(event));
      expect(mapping[event]).toBe(`#/components/schemas/${eventSchemaName(event)}`);
    }
  });

  test("every operation has an id, a summary, a tag, a 500 and ErrorBody errors (the wire formats their own); auth operations need a bearer token or an API key", () => {
    // The Anthropic and OpenAI formats answer errors in their clients' shapes.
    const errorSchemaOf = (path: string) =>
      path.startsWith("/anthropic/") ? "AnthropicError" : path.startsWith("/openai/") ? "OpenAIError" : "ErrorBody";
    expect(committed.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(committed.components.securitySchemes.apiKey).toMatchObject({ type: "apiKey", in: "header", name: "x-api-key" });
    const sessionOnly = new Set(routeTable.filter((r) => r.sessionOnly).map((r) => `${r.method.toLowerCase()} ${r.path}`));
    for (const [path, item] of Object.entries<any>(committed.paths))
      for (const [method, op] of Object.entries<any>(item)) {
        const where = `${method} ${path}`;
        expect(op.operationId, where).toBeTruthy();
        expect(op.summary, where).toBeTruthy();
        expect(op.tags?.length, where).toBe(1);
        expect(op.responses["500"], where).toBeTruthy();
        for (const [status, r] of Object.entries<any>(op.responses))
          if (Number(status) >= 400) expect(r.content["application/json"].schema, `${where} ${status}`).toEqual({ $ref: `#/components/schemas/${errorSchemaOf(path)}` });
        if (op.security)
          expect(op.security, where).toEqual(sessionOnly.has(where) ? [{ bearerAuth: [] }] : [{ bearerAuth: [] }, { apiKey: [] }]);
        if (op.security) expect(op.responses["401"], where).toBeTruthy();
      }
  });
});
