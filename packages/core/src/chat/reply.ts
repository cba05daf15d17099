// One reply as it is produced, admitted already (admit.ts): it calls the model unless admission did,
// streams the model's events to the one client that asked, keeps the stored row up to date (through
// the Flusher) so that any other client can follow it from the database, and stores it however it
// ended: the model's finish, a cancel (asked through the database, or a client disconnect where the
// runtime reports one and DISCONNECT_CANCELS is on), the timeouts, or the total-duration cap.
import { AppError, toPublicError } from "../errors";
import type { CompletionEvent } from "../ports";
import type { Message } from "../schemas";
import { PING, ReplyEvents } from "./events";
import { countAhead, fitsWithoutCounting } from "./prompt";
import { nextTurn } from "./next-turn";
import { Flusher } from "./flusher";
import { clean, serverToolEntry, toolHeader } from "./tool-stream";
import { callModel } from "./model-call";
import { loadCounter, replyRecord, settleReservation } from "./record";
import type { KeptTurn } from "./turn-cache";
import type { ModelCall, ReplyDeps, ReplyEvent, ReplyOutcome, ReplyPlan, ReplyRequest, ReplyStream } from "./types";

type Finish = Extract<CompletionEvent, { type: "finish" }>;
type Outcome = ReturnType<typeof replyRecord>;

/** Abort reasons that are not failures: the reply was asked to stop. */
const CANCELLED = Symbol("cancelled");

/** Wait before the second try of a failed final write. */
const FINAL_WRITE_RETRY_MS = 200;

/** The branch the reply extends, and the stored user message it answers. */
interface Branch extends KeptTurn {
  asked: Message;
}

export class Reply implements ReplyStream {
  private text = "";
  private reasoning = "";
  /** The server tools used and the tool calls so far, as stored (tool-stream.ts). */
  private toolText = "";
  /** Whether the model has called a tool (client tools: server tools come before the text). */
  private calling = false;
  private finish: Finish | null = null;
  private failure: unknown = null;
  /** performance.now() at the first token. */
  private ttft: number | null = null;
  /** Whether anything was emitted since the last ping tick. */
  private emitted = true;

  constructor(
    private readonly deps: ReplyDeps,
    private readonly req: ReplyRequest,
    private readonly plan: ReplyPlan,
    /** null for a call that stores nothing (call.ts): there is no branch to keep. */
    private readonly branch: Branch | null,
    /** Started by admission when a refusal was unlikely, so the first token waits for no round trip. */
    private call: ModelCall | undefined,
    /** Writes the title of a conversation this is the first reply of. */
    private readonly title: (() => Promise<void>) | null,
  ) {}

  /**
   * The title comes after message_stop was written, so the reply never waits for it, but before the
   * response ends, so a client that re-reads its conversations when the stream closes finds it (the
   * playground does); and before `run` resolves, so the invocation is not frozen with it in flight.
   */
  async run(emit: (event: ReplyEvent) => void, signal: AbortSignal, end?: () => void): Promise<ReplyOutcome> {
    if (!this.title) return this.produce(emit, signal, end);
    const outcome = await this.produce(emit, signal);
    await this.title();
    end?.();
    return outcome;
  }

  private async produce(emit: (event: ReplyEvent) => void, clientSignal: AbortSignal, end?: () => void): Promise<ReplyOutcome> {
    const { deps, req, plan } = this;
    const call = (this.call ??= callModel(deps, req, plan));
    const events = new ReplyEvents(emit);
    events.start({ id: plan.replyId, conversation_id: req.conversationId, model: deps.provider.modelLabel(plan.model), input_tokens: plan.prompt.input_tokens });
    const flusher = new Flusher(
      deps.store,
      plan.replyId,
      deps.settings.FLUSH_INTERVAL_MS,
      (stop) =>
        this.stop(
          stop.why === "cancel" ? CANCELLED : new AppError("api_error", "The reply was settled as failed while it was being produced", { expose: true }),
        ),
      (e) => deps.onFailure?.({ conversationId: req.conversationId, replyId: plan.replyId, error: e, partial: true }),
    );
    flusher.start();
    await this.stream(call, events, flusher, emit, clientSignal);
    return this.store(events, flusher, end);
  }

  private stop(reason: unknown): void {
    const upstream = this.call?.controller;
    if (upstream && !upstream.signal.aborted) upstream.abort(reason);
  }

  /** Streams the model's events until it finishes or is stopped; how it ended is left in the fields. */
  private async stream(
    call: ModelCall,
    events: ReplyEvents,
    flusher: Flusher,
    emit: (event: ReplyEvent) => void,
    clientSignal: AbortSignal,
  ): Promise<void> {
    const { settings } = this.deps;
    // By default a reply outlives its client, so a reload can pick it up; Lambda never reports a
    // disconnect anyway.
    const onClientGone = () => this.stop(CANCELLED);
    if (settings.DISCONNECT_CANCELS) {
      clientSignal.addEventListener("abort", onClientGone, { once: true });
      if (clientSignal.aborted) this.stop(CANCELLED);
    }
    // One interval for pings: it only pings when nothing else was emitted since its last tick.
    const pinger = setInterval(() => {
      if (!this.emitted) emit(PING);
      this.emitted = false;
    }, settings.PING_INTERVAL_MS);
    const timeout = (message: string) => () => this.stop(new AppError("timeout_error", message, { expose: true }));
    // One timer for both timeouts: first token, then refreshed (not re-created) on every token.
    let watchdog = setTimeout(timeout("The model did not start answering in time"), settings.FIRST_TOKEN_TIMEOUT_MS);
    // The cap stops the model before the platform's hard kill, so the reply is stored as it ended.
    const cap = setTimeout(timeout("The reply reached its time limit"), this.plan.maxDurationMs);
    let pending = call.first;
    try {
      for (;;) {
        const r = await pending;
        if (r.done) break;
        const e = r.value;
        if (e.type === "finish") {
          this.finish = e;
          pending = call.iterator.next();
          continue;
        }
        // Providers may reuse the event object: take what it carries before pulling the next event.
        const kind = e.type;
        const id = kind === "tool_use" ? clean(e.id) : "";
        const name = kind === "tool_use" ? clean(e.name) : "";
        const server = kind === "server_tool" ? e : null;
        const piece = kind === "tool_use" ? name : kind === "tool_input" ? clean(e.text) : kind === "server_tool" ? serverToolEntry(e.use, e.result) : e.text;
        pending = call.iterator.next();
        if (this.ttft !== null) watchdog.refresh();
        else {
          this.ttft = performance.now();
          clearTimeout(watchdog);
          watchdog = setTimeout(timeout("The model stopped sending tokens"), settings.IDLE_TIMEOUT_MS);
        }
        // The blocks' order is thinking, text, tool calls: anything out of that order breaks the
        // provider contract and is left out, as is input before any call.
        if (!piece) continue;
        if (kind === "reasoning") {
          if (this.text || this.toolText) continue;
          this.reasoning += piece;
          flusher.addReasoning(piece);
          events.reasoning(piece);
        } else if (kind === "text") {
          if (this.calling) continue;
          this.text += piece;
          flusher.addText(piece);
          events.text(piece);
        } else if (server) {
          // The blocks' order puts server tools before the text (events.ts).
          if (this.text || this.calling) continue;
          this.toolText += piece;
          flusher.addToolText(piece);
          events.serverTool(server.use, server.result, piece.length);
        } else if (kind === "tool_use") {
          this.calling = true;
          const header = toolHeader(id, name);
          this.toolText += header;
          flusher.addToolText(header);
          events.toolStart(id, name);
        } else {
          if (!this.calling) continue;
          this.toolText += piece;
          flusher.addToolText(piece);
          events.toolInput(piece);
        }
        this.emitted = true;
      }
      if (!this.finish) throw new AppError("api_error", "The model stream ended without a finish reason");
    } catch (e) {
      this.failure = call.controller.signal.aborted ? call.controller.signal.reason : e;
      // Make sure the upstream request is closed whatever the provider did with the error.
      this.stop(this.failure);
      void call.iterator.return?.(undefined).catch(() => {});
    } finally {
      clearInterval(pinger);
      clearTimeout(watchdog);
      clearTimeout(cap);
      clientSignal.removeEventListener("abort", onClientGone);
    }
  }

  /**
   * Stores the reply as it ended and settles its reservation, emits its last events and ends the
   * response. The client has every token already and the final write is at most a flush interval behind
   * what it saw (the rows exist and were flushed all along), so the stream ends before the write lands;
   * this process holds the conversation's next send until it did (one reply at a time).
   */
  private async store(events: ReplyEvents, flusher: Flusher, end?: () => void): Promise<ReplyOutcome> {
    const { deps, req, plan } = this;
    const cancelled = this.failure === CANCELLED;
    const publicError = this.failure && !cancelled ? toPublicError(this.failure) : null;
    const partial = this.text !== "" || this.reasoning !== "" || this.toolText !== "";
    const report = (error: unknown) => deps.onFailure?.({ conversationId: req.conversationId, replyId: plan.replyId, error, partial });
    if (publicError) report(this.failure);

    // Without the upstream's usage the figures are counted with the real tokenizer, after the stream
    // (the flusher's heartbeat keeps the row alive while it loads).
    const count = !this.finish?.usage && partial ? await loadCounter(deps, plan.model) : undefined;
    const { text, reasoning, toolText, finish, failure, ttft } = this;
    const record = replyRecord(req, plan, count, { text, reasoning, toolText, finish, failure, cancelled, publicError, ttft });
    const finalWrite = this.finalWrite(flusher, record, report);
    deps.finishing?.track(req.conversationId, finalWrite);
    if (cancelled) events.finish("cancelled", record.token_count ?? 0);
    else if (publicError) events.error(publicError.type, publicError.message);
    else events.finish(record.finish_reason, record.token_count ?? 0);
    end?.();

    let stored: Message | null = null;
    try {
      stored = await finalWrite;
    } catch (e) {
      // Logged: a reader settles the row as failed once its heartbeat is stale, with the flushed text.
      report(e);
    }
    if (stored) await this.countForNextSend();
    return { stored, writes: flusher.writes + 2 };
  }

  /**
   * A history too long to fit by its byte count is counted with the tokenizer, in front of the next
   * send's first token: its messages are counted here instead, once this reply's last events are on
   * their way (kept by message id, so the next send finds them counted). A history that still fits by
   * bytes with a next message the size of this one's loads no tokenizer. Best effort: a failure is the
   * next send's.
   */
  private async countForNextSend(): Promise<void> {
    const { deps, plan, branch } = this;
    const kept = deps.turns?.get(this.req.conversationId);
    if (!branch || !kept || !deps.tokenizer || fitsWithoutCounting(kept.conversation.system_prompt, kept.history, branch.asked.content, plan.budget)) return;
    await nextTurn();
    try {
      countAhead(kept.history, plan.budget, await deps.tokenizer(plan.model));
    } catch {
      // The next send loads and counts again.
    }
  }

  /**
   * Goes out after a flush still in flight (the two append to the same text, in order), and settles the
   * ledger reservation to the real figures alongside, once, however the reply ended. The store orders
   * both after the last events (UserStore.finishReply).
   */
  private async finalWrite(flusher: Flusher, record: Outcome, report: (error: unknown) => void): Promise<Message | null> {
    const tail = await flusher.close();
    const [finished] = await Promise.allSettled([
      this.finishReply({ id: this.plan.replyId, text: tail.text, reasoning: tail.reasoning, tool_text: tail.toolText, ...record }),
      settleReservation(this.deps, this.plan, record, report, this.finish?.usage),
    ]);
    if (finished.status === "rejected") throw finished.reason;
    if (finished.value) this.remember(finished.value);
    return finished.value;
  }

  /** Tried twice: it is idempotent (a finished reply is never rewritten). */
  private async finishReply(input: Parameters<ReplyDeps["store"]["finishReply"]>[0]): Promise<Message | null> {
    try {
      return await this.deps.store.finishReply(input);
    } catch {
      await new Promise((r) => setTimeout(r, FINAL_WRITE_RETRY_MS));
      return this.deps.store.finishReply(input);
    }
  }

  /** Keeps the branch a finished reply ends, so the next send on this instance needs no read. */
  private remember(stored: Message): void {
    const { deps, branch } = this;
    if (!branch) return;
    // A reply that stopped for its tools is kept too: the next send answers it with their results.
    const done = stored.finish_reason === "end_turn" || stored.finish_reason === "max_tokens" || stored.finish_reason === "tool_use";
    // As prepare_turn returns it: reasoning never goes back into a prompt.
    if (done && !this.plan.retried)
      deps.turns?.keep({ conversation: branch.conversation, history: [...branch.history, branch.asked, { ...stored, reasoning: "" }] }, deps.settings.HISTORY_LIMIT);
    else deps.turns?.forget(this.req.conversationId);
  }
}
