// The port through which the provider says which models it serves now (Groq retires models, and sets
// their windows and output caps), and the refreshing copy of that list an adapter builds on. The list
// is read off the request path: once when the provider is created, then again in the background once
// it is older than its time to live. A request only ever looks at the copy in memory; the first ones
// after a cold start may wait a moment for the first read (servedModels).
import type { ModelList } from "./schemas";

/** Where a list comes from, as `GET /api/v1/models` names it. */
export type ModelSource = Exclude<ModelList["source"], "configuration">;

/** One model as the provider lists it. */
export interface ServedModel {
  id: string;
  /** Tokens of prompt plus reply it accepts; null when the provider does not say. */
  context_window: number | null;
  /** The most tokens it writes in one reply; null when the provider does not say. */
  max_output_tokens: number | null;
}

/** The provider's list at one moment. */
export interface ModelSnapshot {
  /** Where the list comes from. */
  source: ModelSource;
  /** Who serves the models, for messages ("Groq"). */
  served_by: string;
  /** When the provider answered (ISO); null for a list that is not read from anywhere. */
  fetched_at: string | null;
  /** The model, or undefined when the provider does not serve it. */
  get(id: string): ServedModel | undefined;
}

export interface ModelCatalog {
  /**
   * The last list read; null while none was ever read (then nothing is known: every configured model is
   * tried, with unknown caps). A stale copy starts a refresh in the background and is returned as is.
   */
  current(): ModelSnapshot | null;
  /** Settles (never rejects) once the first read has succeeded or failed. */
  ready(): Promise<void>;
}

/** How long a request waits for the first read of a cold instance before it goes on without it. */
export const FIRST_LIST_WAIT_MS = 1_500;

/** The provider's current list, waiting up to `waitMs` for the first read. null: no list (unknown). */
export async function servedModels(catalog: ModelCatalog | undefined, waitMs = FIRST_LIST_WAIT_MS): Promise<ModelSnapshot | null> {
  if (!catalog) return null;
  const now = catalog.current();
  if (now) return now;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([catalog.ready(), new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
  return catalog.current();
}

/** A snapshot of a fixed list. */
export function snapshotOf(models: ServedModel[], meta: Omit<ModelSnapshot, "get">): ModelSnapshot {
  const byId = new Map(models.map((m) => [m.id, m]));
  return { ...meta, get: (id) => byId.get(id) };
}

export interface RefreshingCatalogOptions {
  /** As ModelSnapshot.source and served_by. */
  source: ModelSource;
  servedBy: string;
  /** Reads the provider's list (the models it serves now). */
  load: () => Promise<ServedModel[]>;
  /** A list older than this is read again (in the background). */
  ttlMs: number;
  /** After a failed read, the next try waits this long (at most ttlMs); the stale copy is kept meanwhile. */
  retryMs?: number;
  now?: () => number;
  /** Told each list read (a log line when configured models are missing from it). */
  onLoaded?: (snapshot: ModelSnapshot) => void;
  /** Told each failed read, with the copy still in use (null: none, the configuration stands in). */
  onFailed?: (error: unknown, kept: ModelSnapshot | null) => void;
}

const DEFAULT_RETRY_MS = 15_000;

/** A catalog that reads the list at once, then again whenever it is asked for a copy older than the TTL. */
export function refreshingCatalog(opts: RefreshingCatalogOptions): ModelCatalog {
  const now = opts.now ?? Date.now;
  const retryMs = Math.min(opts.retryMs ?? DEFAULT_RETRY_MS, opts.ttlMs);
  let snapshot: ModelSnapshot | null = null;
  let nextRead = 0;
  let reading: Promise<void> | null = null;

  const read = (): Promise<void> => {
    if (reading) return reading;
    let loading: Promise<ServedModel[]>;
    try {
      loading = opts.load();
    } catch (e) {
      loading = Promise.reject(e);
    }
    // `reading` is cleared before listeners hear of the outcome, so a lookup they make may read again.
    reading = loading.then(
      (models) => {
        reading = null;
        const at = now();
        snapshot = snapshotOf(models, { source: opts.source, served_by: opts.servedBy, fetched_at: new Date(at).toISOString() });
        nextRead = at + opts.ttlMs;
        tell(() => opts.onLoaded?.(snapshot!));
      },
      (e: unknown) => {
        reading = null;
        nextRead = now() + retryMs;
        tell(() => opts.onFailed?.(e, snapshot));
      },
    );
    return reading;
  };

  const first = read();
  return {
    current() {
      if (reading === null && now() >= nextRead) void read();
      return snapshot;
    },
    ready: () => first,
  };
}

/** A listener's failure must not break the catalog. */
function tell(f: () => void) {
  try {
    f();
  } catch {
    /* a log line failed; the list is in place */
  }
}
