// The AWS region a deploy goes to. Deploy in the Supabase project's region: a streaming reply is written
// to PostgreSQL every FLUSH_INTERVAL_MS (250 ms, packages/core/src/config.ts), so each cross-region
// round trip is paid several times a second for as long as the reply runs (docs/deploy.md).
import { loadConfig } from "@smithy/node-config-provider";

export const DEFAULT_REGION = "us-east-1";

/**
 * `--region` (SST hands it to the config function), then AWS_REGION or the AWS profile's `region`
 * (`--profile`, else AWS_PROFILE, else "default"), read the way the AWS SDK reads them, then us-east-1.
 */
export async function deployRegion(input: { region?: string | undefined; profile?: string | undefined }): Promise<string> {
  if (input.region) return input.region;
  return loadConfig(
    { environmentVariableSelector: (env) => env.AWS_REGION || undefined, configFileSelector: (profile) => profile.region || undefined, default: DEFAULT_REGION },
    input.profile ? { profile: input.profile } : {},
  )();
}
