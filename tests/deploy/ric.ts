// The pieces of AWS's Node.js runtime interface client (aws-lambda-ric 4.x, ric-package.ts) that the
// runner uses, as the managed nodejs24.x runtime uses them: createRuntime (the `awslambda` global, the
// console patch, the handler loaded from LAMBDA_TASK_ROOT/_HANDLER, the invocation loop over the Runtime
// API) and what it is made of. Its code needs Node >= 22: it runs on the Lambda Node binary only.
import { pathToFileURL } from "node:url";

export interface HandlerMetadata {
  streaming: boolean;
  highWaterMark?: number;
  argsNum: number;
}

/** The native Runtime API client's interface; only buffered responses go through it (rapid-client.ts). */
export interface NativeClient {
  next(): Promise<{ bodyJson: string; headers: Record<string, string> }>;
  done(requestId: string, body: string): void;
  error(requestId: string, body: string, xrayError: string): void;
}

export interface RicModule {
  /** Reads AWS_LAMBDA_RUNTIME_API, _HANDLER and LAMBDA_TASK_ROOT; `nativeClient` stands in for the C++ addon. */
  createRuntime(options?: { nativeClient?: NativeClient }): Promise<{ start(): Promise<void> }>;
  /** Defines `globalThis.awslambda` (streamifyResponse, HttpResponseStream). */
  setupGlobals(): void;
  UserFunctionLoader: { load(appRoot: string, handler: string): Promise<{ handler: unknown; metadata: HandlerMetadata }> };
  /** Throws for a callback-style handler, which Node 24's runtime refuses. */
  errorOnDeprecatedCallback(metadata: HandlerMetadata): void;
  HttpResponseStream: { from<S>(stream: S, prelude: Record<string, unknown>): S };
}

export const importRic = async (file: string): Promise<RicModule> => (await import(pathToFileURL(file).href)) as RicModule;
