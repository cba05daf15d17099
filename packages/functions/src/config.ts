import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig, type Config } from "@conversation-api/core";

/** True inside a deployed Lambda function (and under `sst dev`). */
export const onLambda = () => Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);

export const isMemoryDataDir = (dir: string) => dir.startsWith("memory://");

/**
 * The handlers' one way to read configuration. Locally it is the environment; on AWS the same names
 * arrive as environment variables bound by SST (Config parameters and secrets).
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config & { JWT_SECRET: string } {
  const config = parseConfig(env);
  return { ...config, JWT_SECRET: config.JWT_SECRET ?? localJwtSecret(config.DATA_DIR) };
}

// Locally a newcomer should not have to invent a secret: make one and keep it beside the data, so tokens
// survive restarts. A deployed function must be given one.
function localJwtSecret(dataDir: string): string {
  if (onLambda()) throw new Error("Invalid configuration:\n  JWT_SECRET: required on AWS (npx sst secrets set JWT_SECRET ...)");
  if (isMemoryDataDir(dataDir)) return randomBytes(32).toString("base64url");
  const file = join(dataDir, "jwt-secret");
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(32).toString("base64url");
    writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
}
