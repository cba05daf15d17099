// Calls the API by operationId, with the method and path the document gives, and checks every answer
// against the document: the status must be listed for that operation, the content type must be one of
// its media types, and the body (or each SSE event's data) must match the schema.
import type { OpenApiDocument } from "../../packages/functions/src/openapi";
import { call, readSse, type JsonResponse, type SseEvent } from "../support/http";
import { schemaValidator } from "./contract";

interface Operation {
  path: string;
  method: string;
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

export interface CallOptions {
  params?: Record<string, string>;
  query?: Record<string, string>;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export class ApiContract {
  /** operationId → statuses seen, for the coverage assertions. */
  readonly seen = new Map<string, Set<number>>();
  private readonly ops = new Map<string, Operation>();
  private readonly schema: ReturnType<typeof schemaValidator>;

  constructor(
    readonly doc: OpenApiDocument,
    private readonly base: string,
  ) {
    this.schema = schemaValidator(doc);
    for (const [path, item] of Object.entries(doc.paths ?? {}))
      for (const [method, op] of Object.entries(item as Record<string, { operationId?: string; responses: Operation["responses"] }>))
        if (op.operationId) this.ops.set(op.operationId, { path, method, responses: op.responses });
  }

  get operationIds() {
    return [...this.ops.keys()];
  }

  /** A JSON call; throws unless the answer is documented. */
  async call<T = any>(operationId: string, opts: CallOptions = {}): Promise<JsonResponse<T>> {
    const op = this.op(operationId);
    const res = await call<T>(this.base, op.method.toUpperCase(), this.target(op, opts), opts);
    this.check(operationId, res.status, res.headers.get("content-type"), res.body);
    return res;
  }

  /** A call whose success body is not JSON (an export as Markdown): its text, checked like any body. */
  async text(operationId: string, opts: CallOptions = {}): Promise<{ status: number; headers: Headers; body: string }> {
    const op = this.op(operationId);
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await fetch(this.base + this.target(op, opts), { method: op.method.toUpperCase(), headers });
    const body = await res.text();
    const type = res.headers.get("content-type");
    this.check(operationId, res.status, type, type?.startsWith("application/json") ? JSON.parse(body) : body);
    return { status: res.status, headers: res.headers, body };
  }

  /** A streaming call: the SSE events when the answer is a stream, else the JSON error body. */
  async stream(operationId: string, opts: CallOptions = {}): Promise<{ status: number; events: SseEvent[]; body?: any }> {
    const op = this.op(operationId);
    const headers: Record<string, string> = { "content-type": "application/json", ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await fetch(this.base + this.target(op, opts), {
      method: op.method.toUpperCase(),
      headers,
      body: op.method === "get" ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body ?? {}),
    });
    const type = res.headers.get("content-type");
    // The AI SDK's UI message stream: nameless `data:` parts, each checked against the stream's schema.
    if (type?.startsWith("text/event-stream") && res.headers.get("x-vercel-ai-ui-message-stream") === "v1") {
      const lines = (await res.text()).split("\n").filter((l) => l.startsWith("data: "));
      if (lines.at(-1) !== "data: [DONE]") throw new Error(`${operationId}: the UI message stream does not end with [DONE]`);
      const events: SseEvent[] = lines.slice(0, -1).map((l) => ({ id: undefined, event: "message", data: JSON.parse(l.slice(6)) }));
      this.check(operationId, res.status, type, undefined, events, true);
      return { status: res.status, events };
    }
    if (type?.startsWith("text/event-stream")) {
      const events = await readSse(res);
      this.check(operationId, res.status, type, undefined, events);
      return { status: res.status, events };
    }
    const text = await res.text();
    const body = text ? JSON.parse(text) : undefined;
    this.check(operationId, res.status, type, body);
    return { status: res.status, events: [], body };
  }

  private op(operationId: string): Operation {
    const op = this.ops.get(operationId);
    if (!op) throw new Error(`No operation "${operationId}" in the document`);
    return op;
  }

  private target(op: Operation, { params = {}, query }: CallOptions): string {
    const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
      if (params[name] === undefined) throw new Error(`${op.path}: missing path parameter ${name}`);
      return encodeURIComponent(params[name]);
    });
    return query ? `${path}?${new URLSearchParams(query)}` : path;
  }

  private check(operationId: string, status: number, contentType: string | null, body: unknown, events?: SseEvent[], parts = false) {
    const op = this.op(operationId);
    const where = `${op.method.toUpperCase()} ${op.path} → ${status}`;
    const response = op.responses[String(status)];
    if (!response)
      throw new Error(`${where}: status not documented (documented: ${Object.keys(op.responses).join(", ")}); body ${JSON.stringify(body)}`);
    if (!this.seen.has(operationId)) this.seen.set(operationId, new Set());
    this.seen.get(operationId)!.add(status);

    if (!response.content) {
      if (body !== undefined) throw new Error(`${where}: documented without content but has body ${JSON.stringify(body)}`);
      return;
    }
    const mediaType = (contentType ?? "").split(";")[0]!.trim();
    if (!response.content[mediaType])
      throw new Error(`${where}: content type "${contentType}" not documented (${Object.keys(response.content).join(", ")})`);
    const validate = this.schema("paths", op.path, op.method, "responses", String(status), "content", mediaType, "schema");
    if (mediaType === "text/event-stream" && parts) {
      for (const e of events ?? []) if (!validate(e.data)) throw new Error(`${where}: part does not match the schema: ${errorsText(validate.errors)}\n${JSON.stringify(e.data)}`);
      return;
    }
    if (mediaType === "text/event-stream") return this.checkEvents(where, response.content[mediaType]!.schema, events ?? [], validate);
    if (!validate(body)) throw new Error(`${where}: body does not match the schema: ${errorsText(validate.errors)}\n${JSON.stringify(body)}`);
  }

  // Each event's data must match the stream's schema and, by name, the component that the
  // discriminator maps its `event:` to; ids (on all but ping and error) strictly increase.
  private checkEvents(where: string, schema: { $ref?: string } | undefined, events: SseEvent[], validateAny: (d: unknown) => boolean) {
    const union = this.resolve(schema) as { discriminator?: { mapping?: Record<string, string> } };
    const mapping = union.discriminator?.mapping ?? {};
    let lastId = 0;
    for (const e of events) {
      const target = mapping[e.event];
      if (!target) throw new Error(`${where}: event "${e.event}" is not in the document's StreamEvent mapping`);
      const validate = this.schema(...target.replace(/^#\//, "").split("/"));
      const data = e.data as { type?: unknown };
      if (!validate(data) || !validateAny(data))
        throw new Error(`${where}: "${e.event}" data does not match ${target}: ${errorsText(validate.errors)}\n${JSON.stringify(data)}`);
      if (data.type !== e.event) throw new Error(`${where}: event "${e.event}" carries type "${String(data.type)}"`);
      if (e.event === "ping" || e.event === "error") continue;
      if (!/^\d+$/.test(e.id ?? "") || Number(e.id) <= lastId)
        throw new Error(`${where}: event "${e.event}" has id ${e.id}, expected a number above ${lastId}`);
      lastId = Number(e.id);
    }
  }

  private resolve(schema: { $ref?: string } | undefined): unknown {
    let node: any = this.doc;
    if (!schema?.$ref) return schema;
    for (const part of schema.$ref.replace(/^#\//, "").split("/")) node = node?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    return node;
  }
}

const errorsText = (errors: { instancePath: string; message?: string }[] | null | undefined) =>
  (errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
