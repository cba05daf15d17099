import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { CONFIG_KEYS } from "@conversation-api/core";

/**
 * Loads `.env` from the working directory when there is one. Variables already set in the environment
 * win. A name the API does not know is refused, because a misspelt setting silently falling back to its
 * default is worse than a failed start.
 */
export function loadDotEnv(path = ".env"): void {
  if (!existsSync(path)) return;
  const values = parseEnv(readFileSync(path, "utf8"));
  const known = new Set<string>(CONFIG_KEYS);
  const unknown = Object.keys(values).filter((k) => !known.has(k));
  if (unknown.length)
    throw new Error(`Invalid configuration:\n  ${path}: unknown variable(s) ${unknown.join(", ")} (see .env.example)`);
  for (const [k, v] of Object.entries(values)) if (process.env[k] === undefined) process.env[k] = v;
}
