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

/** The Lambda `Context` for one local invocation. Methods live on the class: nothing is created per call but the object. */
class LocalContext implements Context {
  callbackWaitsForEmptyEventLoop = true;
  readonly functionVersion = "$LATEST";
  readonly functionName: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly #deadline: number;

  constructor(options: ContextOptions) {
    const env = environmentOf(options.functionName, options.region ?? process.env.AWS_REGION ?? "us-east-1", options.accountId ?? "123456789012");
    this.functionName = options.functionName;
    this.invokedFunctionArn = env.arn;
    this.memoryLimitInMB = String(options.memoryLimitInMB ?? 1024);
    this.awsRequestId = options.awsRequestId ?? randomUUID();
    this.logGroupName = `/aws/lambda/${options.functionName}`;
    this.logStreamName = env.logStreamName;
    this.#deadline = Date.now() + options.timeoutMs;
  }

  getRemainingTimeInMillis(): number {
    return Math.max(0, this.#deadline - Date.now());
  }
  done(): void {}
  fail(): void {}
  succeed(): void {}
}

export function createLambdaContext(options: ContextOptions): Context {
  return new LocalContext(options);
}
