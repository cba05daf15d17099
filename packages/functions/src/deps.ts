import {
  createOfflineProvider,
  type Config,
  type ModelProvider,
  type Store,
  type TokenSettings,
} from "@conversation-api/core";
import { openStore } from "@conversation-api/store";
import { loadConfig, isMemoryDataDir } from "./config";
import { createGroqProvider } from "./providers/groq";

export interface Deps {
  config: Config;
  store: Store;
  provider: ModelProvider;
  tokens: TokenSettings;
}

let current: Promise<Deps> | undefined;

/**
 * Built once per Lambda container (or local process) on first use and shared by every invocation, so
 * database connections and SDK clients are reused across requests.
 */
export function getDeps(): Promise<Deps> {
  current ??= build().catch((e) => {
    current = undefined;
    throw e;
  });
  return current;
}

async function build(): Promise<Deps> {
  const config = loadConfig();
  const store = await openStore(
    config.DATABASE_URL
      ? { databaseUrl: config.DATABASE_URL }
      : isMemoryDataDir(config.DATA_DIR)
        ? { inMemory: true }
        : { dataDir: config.DATA_DIR },
  );
  const provider = config.GROQ_API_KEY
    ? createGroqProvider(config)
    : createOfflineProvider({ tokenDelayMs: config.OFFLINE_TOKEN_DELAY_MS });
  const tokens: TokenSettings = {
    secret: config.JWT_SECRET!,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    expiresInSeconds: config.ACCESS_TOKEN_EXPIRE_MINUTES * 60,
  };
  return { config, store, provider, tokens };
}

/** Closes the shared resources (local runtime shutdown, tests). */
export async function shutdown(): Promise<void> {
  const d = current;
  current = undefined;
  if (d) await (await d).store.close();
}
