// The region a deploy goes to (stacks/region.ts): --region, then AWS_REGION or the AWS profile's
// region, then us-east-1. The profile is read from a shared config file made here (AWS_CONFIG_FILE).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_REGION, deployRegion } from "../../stacks/region";
import { synthesize } from "./synth";

const dir = mkdtempSync(join(tmpdir(), "region-test-"));
const saved = { ...process.env };
let n = 0;

/** A fresh shared config file (the SDK's loader caches a file by its path), made the one in use. */
function awsConfig(text: string): void {
  const file = join(dir, `config-${n++}`);
  writeFileSync(file, text);
  process.env.AWS_CONFIG_FILE = file;
}

beforeEach(() => {
  for (const k of ["AWS_REGION", "AWS_PROFILE", "AWS_DEFAULT_REGION"]) delete process.env[k];
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, "no-credentials");
  awsConfig("");
});
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the deploy's region", () => {
  it("is --region first, over AWS_REGION and the profile", async () => {
    process.env.AWS_REGION = "eu-west-1";
    awsConfig("[default]\nregion = ap-southeast-2\n");
    expect(await deployRegion({ region: "eu-central-1" })).toBe("eu-central-1");
  });

  it("is AWS_REGION next, over the profile's region", async () => {
    process.env.AWS_REGION = "eu-west-1";
    awsConfig("[default]\nregion = ap-southeast-2\n");
    expect(await deployRegion({})).toBe("eu-west-1");
  });

  it("is the profile's region next: --profile, else AWS_PROFILE, else the default profile", async () => {
    awsConfig("[default]\nregion = ap-southeast-2\n[profile work]\nregion = ca-central-1\n[profile other]\nregion = sa-east-1\n");
    expect(await deployRegion({})).toBe("ap-southeast-2");
    process.env.AWS_PROFILE = "other";
    expect(await deployRegion({})).toBe("sa-east-1");
    expect(await deployRegion({ profile: "work" })).toBe("ca-central-1");
  });

  it(`is ${DEFAULT_REGION} when nothing says otherwise`, async () => {
    expect(await deployRegion({})).toBe(DEFAULT_REGION);
    awsConfig("[default]\noutput = json\n");
    expect(await deployRegion({})).toBe(DEFAULT_REGION);
  });

  it("is what sst.config.ts gives SST, so the stacks are synthesized for it", async () => {
    process.env.AWS_REGION = "eu-north-1";
    expect((await synthesize("test", "remove")).region).toBe("eu-north-1");
  }, 120_000);
});
