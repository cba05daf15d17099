// Groq's model list as the provider reads it: the real groq-sdk against the loopback Groq's
// GET /openai/v1/models, the catalog's clock in the test's hand. Each step waits for the catalog's
// log line (an event), never for time.
import Groq from "groq-sdk";
import { listModels, parseConfig, type ModelCatalog } from "@conversation-api/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { groqModelCatalog, readGroqModels } from "../../packages/functions/src/providers/groq-models";
import { GROQ_MODELS, startGroqServer, type GroqServer } from "../fixtures/groq-server";

let groq: GroqServer;
let client: Groq;
beforeAll(async () => {
  groq = await startGroqServer();
  client = new Groq({ apiKey: "gsk_loopback", baseURL: groq.url, maxRetries: 0 });
});
afterAll(() => groq.close());

const config = parseConfig({ ALLOWED_MODELS: "openai/gpt-oss-20b,openai/gpt-oss-120b,qwen/qwen3.6-27b", MODEL_LIST_TTL_S: "600" });

/** A catalog over the loopback Groq with a hand-moved clock; `nextLine` resolves with its next log line. */
function catalog(): { catalog: ModelCatalog; advance(ms: number): void; nextLine(): Promise<Record<string, any>>; lines: string[] } {
  let clock = Date.parse("2026-12-01T00:00:00.000Z");
  const lines: string[] = [];
  let waiting: ((line: Record<string, any>) => void) | undefined;
  const c = groqModelCatalog(client, config, {
    now: () => clock,
    warn: (line) => {
      lines.push(line);
      waiting?.(JSON.parse(line));
    },
  });
  return {
    catalog: c,
    lines,
    advance: (ms) => void (clock += ms),
    nextLine: () => new Promise((resolve) => (waiting = resolve)),
  };
}

describe("Groq's model list", () => {
  it("keeps Groq's active models with their window and output cap; inactive entries and non-models are left out", async () => {
    groq.setModels([
      ...GROQ_MODELS,
      { id: "no/caps", active: true } as never, // figures missing: unknown
      { object: "model" } as never, // no id: not a model
    ]);
    const models = await readGroqModels(client);
    expect(models).toContainEqual({ id: "qwen/qwen3.6-27b", context_window: 131_072, max_output_tokens: 16_384 });
    expect(models).toContainEqual({ id: "no/caps", context_window: null, max_output_tokens: null });
    expect(models.map((m) => m.id)).not.toContain("llama-3.1-8b-instant"); // listed, but active: false
    expect(models).toHaveLength(GROQ_MODELS.filter((m) => m.active).length + 1);
    expect(groq.modelListRequests.at(-1)!.headers.authorization).toBe("Bearer gsk_loopback");
  });

  it("is read again after MODEL_LIST_TTL_S, and the stale copy stays in use while Groq is down", async () => {
    groq.setModels(GROQ_MODELS);
    const c = catalog();
    await c.catalog.ready();
    const first = c.catalog.current()!;
    expect(first.get("qwen/qwen3.6-27b")?.max_output_tokens).toBe(16_384);
    expect(c.lines).toEqual([]); // every configured model served: nothing to say
    const reads = groq.modelListRequests.length;

    // Within the TTL: no read.
    c.advance(599_000);
    c.catalog.current();
    expect(groq.modelListRequests.length).toBe(reads);

    // Past it, Groq is down: the copy stays, and the log says which copy.
    groq.setModels({ status: 503, error: { message: "Service Unavailable", type: "internal_server_error" } });
    c.advance(1_000);
    let line = c.nextLine();
    expect(c.catalog.current()).toBe(first);
    expect(await line).toMatchObject({ level: "warn", event: "model_list_failed", kept: first.fetched_at, error: { status: 503 } });
    expect(c.catalog.current()).toBe(first);
    expect(groq.modelListRequests.length).toBe(reads + 1);

    // Back up, without qwen3.6: the next read (after the retry wait) replaces the copy and says what is missing.
    groq.setModels(GROQ_MODELS.filter((m) => m.id !== "qwen/qwen3.6-27b"));
    c.advance(15_000);
    line = c.nextLine();
    c.catalog.current();
    expect(await line).toMatchObject({ event: "models_not_served", not_served: ["qwen/qwen3.6-27b"], answering: "openai/gpt-oss-20b" });
    const fresh = c.catalog.current()!;
    expect(fresh.get("qwen/qwen3.6-27b")).toBeUndefined();
    expect(listModels(config, fresh).unavailable).toEqual([{ id: "qwen/qwen3.6-27b", reason: "not served by Groq" }]);
  });

  it("without any copy, says the configured models stand in, and the listing says where it comes from", async () => {
    groq.setModels({ status: 500 });
    const c = catalog();
    const line = c.nextLine();
    await c.catalog.ready();
    expect(await line).toMatchObject({ event: "model_list_failed", kept: null, message: expect.stringContaining("configured models stand in") });
    expect(c.catalog.current()).toBeNull();
    expect(listModels(config, c.catalog.current())).toMatchObject({
      source: "configuration",
      fetched_at: null,
      data: [
        { id: "openai/gpt-oss-20b", context_window: null, max_output_tokens: null, default: true },
        { id: "openai/gpt-oss-120b", context_window: null, max_output_tokens: null, default: false },
        { id: "qwen/qwen3.6-27b", context_window: null, max_output_tokens: null, default: false },
      ],
      unavailable: [],
    });
  });
});
