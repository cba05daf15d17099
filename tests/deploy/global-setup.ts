// Vitest global setup: before any test file runs, fetch the Lambda runtime's Node (lambda-node.ts) into
// its cache, so no test installs anything while it runs. It never throws (the other suites do not need
// it); a deploy test that needs the binary fails with the reason recorded here.
import { installLambdaNode } from "./lambda-node";

export default function setup(): void {
  const error = installLambdaNode();
  if (error) process.env.LAMBDA_NODE_ERROR = error;
}
