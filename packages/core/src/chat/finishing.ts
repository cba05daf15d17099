// A reply's stream ends before its final write lands (reply.ts), so a client can send its next
// message while that write is still on its way. Within one process the next send waits for it here,
// instead of finding the reply still streaming (409). Across instances the window is one round trip.

/** The final writes in flight in this process, by conversation. */
export class FinishingReplies {
  private readonly byConversation = new Map<string, Promise<void>>();

  track(conversationId: string, write: Promise<unknown>): void {
    const settled: Promise<void> = write.then(
      () => {},
      () => {},
    );
    this.byConversation.set(conversationId, settled);
    void settled.then(() => {
      if (this.byConversation.get(conversationId) === settled) this.byConversation.delete(conversationId);
    });
  }

  /** Resolves once the conversation has no final write in flight here (at once when it has none). */
  settled(conversationId: string): Promise<void> | undefined {
    return this.byConversation.get(conversationId);
  }
}
