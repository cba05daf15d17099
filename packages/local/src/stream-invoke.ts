import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { finished } from "node:stream/promises";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { HANDLER_HIGHWATERMARK, type StreamingHandler } from "./awslambda-shim";
import { FunctionUrlSink } from "./function-url-sink";
import { LAMBDA_ERROR_BODY, sendJson } from "./http-util";
import { type Logger, silentLogger } from "./logger";
import { LambdaResponseStream } from "./response-stream";

/** The error a handler's response stream is destroyed with when the HTTP client goes away. */
export class ClientDisconnectedError extends Error {
  constructor() {
    super("Client disconnected");
    this.name = "ClientDisconnectedError";
  }
}

export interface StreamInvokeOptions {
  logger?: Logger;
  /** Added to the response head (request id, CORS), under whatever the handler sets. */
  headers?: OutgoingHttpHeaders;
  /** For log lines. */
  name?: string;
  /**
   * Lambda-faithful: hide client disconnects from the handler, exactly as a Function URL does (the
   * Node runtime emits no close or abort on its response stream: aws-lambda-nodejs-runtime-interface-client
   * issue #145). The handler's writes after the disconnect are dropped and it runs to its end.
   */
  hideDisconnects?: boolean;
}

/**
 * Runs a streamified handler against an HTTP response the way a RESPONSE_STREAM Function URL does.
 * Resolves once the response is over (completed, failed, or abandoned by the client); never rejects.
 */
export async function invokeStreamingHandler(
  handler: StreamingHandler,
  event: APIGatewayProxyEventV2,
  context: Context,
  res: ServerResponse,
  options: StreamInvokeOptions = {},
): Promise<void> {
  const logger = options.logger ?? silentLogger;
  // Tokens are tiny writes; without this Nagle would hold each one back waiting for an ACK.
  res.socket?.setNoDelay(true);

  const sink = new FunctionUrlSink(res, options.headers);
  const stream = new LambdaResponseStream(sink, handler[HANDLER_HIGHWATERMARK]);
  sink.attach(stream);
  // Errors reach us through the handler's promise (its pipeline rejects); this listener only keeps a
  // handler that writes without listening for errors from crashing the whole local server.
  stream.on("error", () => {});

  let clientGone = false;
  res.once("close", () => {
    if (res.writableFinished) return;
    if (options.hideDisconnects) {
      // Nothing reaches the handler; only a write waiting on a socket that will never drain is let go.
      stream.drained();
      return;
    }
    // Destroying the stream makes the handler's `pipeline(body, responseStream)` reject and destroy its
    // source: that is how the handler learns the client left and stops the model call.
    clientGone = true;
    stream.destroy(new ClientDisconnectedError());
  });

  try {
    await handler(event, stream, context);
    // Lambda freezes the sandbox once the handler settles, so a stream left open ends here.
    if (!stream.writableEnded && !stream.destroyed) stream.end();
    await finished(stream);
  } catch (error) {
    if (clientGone || (options.hideDisconnects && res.destroyed)) {
      logger.debug?.(`${options.name ?? "stream"}: client disconnected (${describe(error)})`);
      return;
    }
    logger.error(`${options.name ?? "stream"}: streaming handler failed`, error);
    stream.destroy();
    if (!res.headersSent) sendJson(res, 502, LAMBDA_ERROR_BODY, options.headers);
    // Status and part of the body are out: cut the connection so the client can tell the body is incomplete.
    else res.destroy();
  }
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));
