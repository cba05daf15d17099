export {
  installAwsLambdaGlobal,
  streamifyResponse,
  HttpResponseStream,
  isStreamingHandler,
  HANDLER_STREAMING,
  HANDLER_HIGHWATERMARK,
  STREAM_RESPONSE,
  type StreamingHandler,
  type StreamifyOptions,
  type AwsLambdaGlobal,
} from "./awslambda-shim";
export { createLocalServer, type LocalServer, type LocalServerOptions, type LocalRoute, type ExtraRoutes } from "./server";
export { toApiGatewayEvent, type EventOptions, type EventSource } from "./event";
export { createLambdaContext, type ContextOptions } from "./context";
export { writeProxyResult } from "./response";
export { invokeStreamingHandler, ClientDisconnectedError, type StreamInvokeOptions } from "./stream-invoke";
export { LambdaResponseStream, type ResponseSink } from "./response-stream";
export { FunctionUrlSink } from "./function-url-sink";
export { PreludeParser, METADATA_PRELUDE_CONTENT_TYPE, DELIMITER_LEN, type HttpPrelude } from "./prelude";
export { createRouter, type MatchResult, type RoutePattern } from "./router";
export { readBody, MAX_BODY_BYTES, PayloadTooLargeError } from "./body";
export { consoleLogger, silentLogger, type Logger } from "./logger";
export { listen, ListenError } from "./listen";
