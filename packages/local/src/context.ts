import { randomBytes, randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";

export interface ContextOptions {
  functionName: string;
  /** The function's configured timeout; getRemainingTimeInMillis counts down from it. */
  timeoutMs: number;
  awsRequestId?: string;
  memoryLimitInMB?: number;
  region?: string;
  accountId?: string;
}

/**
 * What stays the same for every invocation an execution environment serves: its ARN and its log
 * stream (Lambda opens one log stream per environment, not per request). Kept per function and options.
 */
const environments = new Map<string, { arn: string; logStreamName: string }>();

function environmentOf(functionName: string, region: string, accountId: string) {
  const key = `${functionName}\n${region}\n${accountId}`;
  let env = environments.get(key);
  if (!env) {
    const day = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
    env = { arn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`, logStreamName: `${day}/[$LATEST]${randomBytes(16).toString("hex")}` };
    environments.set(key, env);
  }
  return env;
}

/** The Lambda `Context` for one local invocation. */
export function createLambdaContext(options: ContextOptions): Context {
  const region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
  const accountId = options.accountId ?? "123456789012";
  const deadline = Date.now() + options.timeoutMs;
  const env = environmentOf(options.functionName, region, accountId);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: env.arn,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 1024),
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: env.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
