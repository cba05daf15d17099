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

/** The Lambda `Context` for one local invocation. */
export function createLambdaContext(options: ContextOptions): Context {
  const region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
  const accountId = options.accountId ?? "123456789012";
  const deadline = Date.now() + options.timeoutMs;
  const day = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 1024),
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString("hex")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
