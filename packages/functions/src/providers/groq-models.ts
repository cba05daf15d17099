// Groq's model list (GET {base}/openai/v1/models, groq-sdk's `models.list()`) as core's ModelCatalog:
// which models Groq serves now, with the context window and output cap it gives for each. Read when
// the provider is created and again once older than MODEL_LIST_TTL_S; a failed read keeps the copy.
import type Groq from "groq-sdk";
import * as z from "zod";
import { refreshingCatalog, unservedModels, type Config, type ModelCatalog, type ModelSnapshot, type ServedModel } from "@conversation-api/core";

/** A read of the list gives up after this: it runs in the background, but a cold start may wait for it. */
const LIST_TIMEOUT_MS = 5_000;

// Groq's entries carry more than groq-sdk's `Model` type declares. A figure that is missing or not a
// positive integer is unknown, and an entry that is not even a model is skipped, rather than the
// whole list being refused for it.
const size = z.number().int().positive().nullish().catch(null);
const Entry = z.object({ id: z.string().min(1), active: z.boolean().nullish().catch(true), context_window: size, max_completion_tokens: size });
const Answer = z.object({ data: z.array(z.unknown()) });

/** The active models in Groq's answer. */
export async function readGroqModels(client: Groq): Promise<ServedModel[]> {
  const answer = Answer.parse(await client.models.list({ timeout: LIST_TIMEOUT_MS }));
  const models: ServedModel[] = [];
  for (const raw of answer.data) {
    const entry = Entry.safeParse(raw);
    if (!entry.success || entry.data.active === false) continue;
    const { id, context_window, max_completion_tokens } = entry.data;
    models.push({ id, context_window: context_window ?? null, max_output_tokens: max_completion_tokens ?? null });
  }
  return models;
}

type CatalogSettings = Pick<Config, "DEFAULT_MODEL" | "ALLOWED_MODELS" | "MODEL_LIST_TTL_S">;

/** Groq's list, refreshed in the background; each read that misses configured models says so in the log. */
export function groqModelCatalog(
  client: Groq,
  config: CatalogSettings,
  { warn = (line: string) => console.warn(line), now }: { warn?: (line: string) => void; now?: () => number } = {},
): ModelCatalog {
  return refreshingCatalog({
    source: "groq",
    servedBy: "Groq",
    load: () => readGroqModels(client),
    ttlMs: config.MODEL_LIST_TTL_S * 1000,
    ...(now ? { now } : {}),
    onLoaded: (snapshot) => {
      const line = missingModelsLine(config, snapshot);
      if (line) warn(line);
    },
    onFailed: (error, kept) => warn(listFailedLine(error, kept)),
  });
}

function missingModelsLine(config: CatalogSettings, snapshot: ModelSnapshot): string | null {
  const { missing, defaultMissing, answering } = unservedModels(config, snapshot);
  if (missing.length === 0) return null;
  const message = defaultMissing
    ? `DEFAULT_MODEL "${config.DEFAULT_MODEL}" is not served by Groq; sends that name no model are answered by "${answering}"`
    : `ALLOWED_MODELS not served by Groq: ${missing.join(", ")}`;
  return JSON.stringify({ level: "warn", event: "models_not_served", message, not_served: missing, default_model: config.DEFAULT_MODEL, answering });
}

function listFailedLine(error: unknown, kept: ModelSnapshot | null): string {
  const message = kept
    ? `Groq's model list could not be read; the list read at ${kept.fetched_at} stays in use`
    : "Groq's model list could not be read; the configured models stand in, with unknown context windows and output caps";
  // Only the status and the error's name: an upstream body could echo the request, key included.
  const e = error as { name?: unknown; status?: unknown } | null;
  const cause = { name: typeof e?.name === "string" ? e.name : typeof error, status: typeof e?.status === "number" ? e.status : undefined };
  return JSON.stringify({ level: "warn", event: "model_list_failed", message, kept: kept?.fetched_at ?? null, error: cause });
}
