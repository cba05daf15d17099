// The account services (register, login, refresh, password…) are `@conversation-api/core/accounts`, not
// here: their password policy imports zxcvbn's dictionaries (~460 kB) lazily, and esbuild makes a chunk
// of every dynamic import it can reach, so every function importing this index would ship them.
export * from "./schemas";
export * from "./errors";
export type * from "./ports";
export * from "./config";
export * from "./models";
export * from "./model-catalog";
export * from "./auth/tokens";
export * from "./auth/passwords";
export * from "./auth/secrets";
export * from "./services/api-keys";
export type * from "./chat/types";
export * from "./chat/stream-reply";
export { countCallTokens, startCall, withSampling, type CallRequest, type CallTurn, type Sampling } from "./chat/call";
export { FinishingReplies } from "./chat/finishing";
export { TurnCache, UserTurns, type KeptTurn } from "./chat/turn-cache";
export { PING, ReplyEvents, eventId, parseEventId, type Position, type StartInfo } from "./chat/events";
export * from "./chat/prompt";
export { toolFields, toolUseBlocks } from "./chat/tool-stream";
export * from "./providers/offline";
export * from "./services/conversations";
export * from "./services/usage";
export * from "./services/export";
