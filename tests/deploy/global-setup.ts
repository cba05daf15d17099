// Vitest global setup: before any test file runs, fetch what the deploy tests compare against into a
// cache outside the repository (once; later runs reuse it): the Lambda runtime's Node (lambda-node.ts)
// and AWS's runtime interface client (ric-package.ts). It never throws (the other suites do not need
// them); a deploy test that needs one fails with the reason recorded here.
import { installLambdaNode } from "./lambda-node";
import { installRic } from "./ric-package";

export default async function setup(): Promise<void> {
  const [nodeError, ricError] = await Promise.all([installLambdaNode(), installRic()]);
  if (nodeError) process.env.LAMBDA_NODE_ERROR = nodeError;
  if (ricError) process.env.RIC_ERROR = ricError;
}
