// SST v2 app: `npx sst deploy --stage <stage>` (README, "Deploy to AWS").
import { join } from "node:path";
import type { SSTConfig } from "sst";
import { ApiStack } from "./stacks/ApiStack";
import { ConfigStack } from "./stacks/ConfigStack";
import { functionDefaults } from "./stacks/defaults";
import { writeOpenApiArtifact } from "./stacks/openapi-artifact";
import { deployRegion } from "./stacks/region";

export default {
  // The region: --region, then AWS_REGION or the profile's region, then us-east-1 (stacks/region.ts).
  async config(input) {
    return { name: "conversation-api", region: await deployRegion(input) };
  },
  async stacks(app) {
    // .sst/openapi.json: the document of exactly what this deploy ships (npm run openapi updates the
    // committed copy).
    await writeOpenApiArtifact(join(".sst", "openapi.json"));
    app.setDefaultFunctionProps(functionDefaults);
    app.stack(ConfigStack).stack(ApiStack);
  },
} satisfies SSTConfig;
