// Writes a streaming reply to the database in batches, off the token path: tokens only append to a
// buffer; a timer sends what gathered, at most every interval and never two writes at once, so a slow
// database never delays a token. Each write is also the heartbeat readers judge staleness by, and its
// answer says whether someone asked the reply to stop.
import type { UserStore } from "../ports";
import type { FinishReason } from "../schemas";

export type FlushStop = { why: "cancel" } | { why: "settled"; finish_reason: FinishReason };

export class Flusher {
  private text = "";
  private reasoning = "";
  private toolText = "";
  private inFlight: Promise<void> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Database writes made (flushes; the final write is the caller's). */
  writes = 0;

  constructor(
    private readonly store: UserStore,
    private readonly replyId: string,
    private readonly intervalMs: number,
    private readonly onStop: (stop: FlushStop) => void,
    private readonly onError: (e: unknown) => void = () => {},
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  addText(text: string): void {
    this.text += text;
  }

  addReasoning(text: string): void {
    this.reasoning += text;
  }

  addToolText(text: string): void {
    this.toolText += text;
  }

  private tick(): void {
    if (this.inFlight) return;
    const text = this.text;
    const reasoning = this.reasoning;
    const toolText = this.toolText;
    this.text = "";
    this.reasoning = "";
    this.toolText = "";
    this.writes++;
    this.inFlight = this.store
      .flushReply(this.replyId, text, reasoning, toolText)
      .then(
        (r) => {
          if (r?.cancel) this.onStop({ why: "cancel" });
          else if (r?.finish_reason) this.onStop({ why: "settled", finish_reason: r.finish_reason });
        },
        (e: unknown) => {
          // Assume it did not land: the next write carries it again, so the stored text has no gap.
          this.text = text + this.text;
          this.reasoning = reasoning + this.reasoning;
          this.toolText = toolText + this.toolText;
          this.onError(e);
        },
      )
      .finally(() => {
        this.inFlight = null;
      });
  }

  /**
   * Stops the timer and hands back what is not stored yet, once a write in flight is over (a failed one
   * puts its text back into the tail).
   */
  async close(): Promise<{ text: string; reasoning: string; toolText: string }> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
    const tail = { text: this.text, reasoning: this.reasoning, toolText: this.toolText };
    this.text = "";
    this.reasoning = "";
    this.toolText = "";
    return tail;
  }
}
