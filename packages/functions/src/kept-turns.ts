import { TurnCache } from "@conversation-api/core";

/**
 * This process's kept histories (core's turn-cache.ts): filled by the sends it answers and by the
 * conversations it creates, read by the stream handlers. One per Lambda instance; in the local runtime
 * every handler shares the process, so a conversation created there is known to its first send.
 */
export const keptTurns = new TurnCache();
