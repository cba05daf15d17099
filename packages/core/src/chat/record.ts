// What is stored when a reply ends: token figures, finish reason, timings and metadata.
import { AppError, type toPublicError } from "../errors";
import type { CompletionEvent, CompletionUsage } from "../ports";
import type { FinishReason } from "../schemas";
import { idempotencyKeyOf } from "./idempotency";
import { estimateTokens } from "./prompt";
import { leadingServerTools } from "./tool-stream";
import type { ReplyDeps, ReplyPlan, ReplyRequest, TokenCounter } from "./types";

type Finish = Extract<CompletionEvent, { type: "finish" }>;

export interface Outcome {
  text: string;
  reasoning: string;
  toolText: string;
  finish: Finish | null;
  failure: unknown;
  cancelled: boolean;
  publicError: ReturnType<typeof toPublicError> | null;
  ttft: number | null;
}

/**
 * Token figures come from the upstream when it reported them; otherwise they are counted here and
 * marked `usage_estimated`. A reply that produced nothing and reported nothing stores no input tokens:
 * the upstream most likely charged none (429, 5xx, refused), and an estimate would count against the
 * user's budget for a failure that was not theirs.
 */
export function replyRecord(req: ReplyRequest, plan: ReplyPlan, counter: TokenCounter | undefined, o: Outcome) {
  const count = counter ?? estimateTokens;
  const usage = o.finish?.usage ?? null;
  const metadata: Record<string, unknown> = { ...o.finish?.metadata, history_omitted: plan.prompt.omitted };
  if (!usage || usage.estimated) metadata.usage_estimated = true;
  if (usage?.reasoning_tokens !== undefined)
    metadata.usage = { ...(metadata.usage as object | undefined), reasoning_tokens: usage.reasoning_tokens };
  const key = idempotencyKeyOf(req);
  if (key) metadata.idempotency_key = key;
  if (plan.retried) metadata.retry_of_user_message = plan.retried.id;
  if (o.publicError) metadata.error = { type: o.publicError.type, message: o.publicError.message };
  if (o.publicError && o.failure instanceof AppError && o.failure.metadata) Object.assign(metadata, o.failure.metadata);
  const finishReason: FinishReason = o.failure ? (o.cancelled ? "cancelled" : "error") : o.finish!.finish_reason;
  // Reasoning is output: the upstream's completion tokens include it, and so does the estimate.
  // The server tools' results (the leading entries of the tool text) are what the provider returned, not output.
  const calls = o.toolText.slice(leadingServerTools(o.toolText).length);
  const produced = (o.text ? count(o.text) : 0) + (o.reasoning ? count(o.reasoning) : 0) + (calls ? count(calls) : 0);
  return {
    token_count: usage ? usage.output_tokens : produced,
    // One figure everywhere: the prompt as sent, as message_start announced it (the upstream's own count,
    // when it reports one, stays in metadata.usage).
    input_tokens: usage || o.ttft !== null ? plan.prompt.input_tokens : null,
    finish_reason: finishReason,
    latency_ms: Math.round(performance.now() - req.receivedAt),
    ttft_ms: o.ttft === null ? null : Math.round(o.ttft - req.receivedAt),
    metadata,
  };
}

export async function loadCounter(deps: ReplyDeps, model: string): Promise<TokenCounter> {
  try {
    return (await deps.tokenizer?.(model)) ?? estimateTokens;
  } catch {
    return estimateTokens; // an estimate, still marked as such, beats losing the reply
  }
}

/**
 * Settles the send's ledger reservation to what the reply really used (end, cancel, error or the
 * duration cap alike). A failure here is logged, not fatal: the reservation then keeps counting its
 * worst case.
 */
export async function settleReservation(
  deps: ReplyDeps,
  plan: ReplyPlan,
  record: { input_tokens: number | null; token_count: number | null; latency_ms: number },
  report: (error: unknown) => void,
  usage?: CompletionUsage | null,
): Promise<void> {
  // The provider's built-in tools fed their results to the model as more input, which the upstream
  // counts and bills: the ledger then takes its figure when it is the larger.
  const input = usage?.server_tool_use ? Math.max(record.input_tokens ?? 0, usage.input_tokens) : (record.input_tokens ?? 0);
  try {
    await deps.store.settleTokens({
      reservation_id: plan.reservation.reservation_id,
      secret: plan.secret,
      input_tokens: input,
      output_tokens: record.token_count ?? 0,
      latency_ms: record.latency_ms,
      // /usage groups by the model that answered, the one the stored reply names.
      model: deps.provider.modelLabel(plan.model),
    });
  } catch (e) {
    report(e);
  }
}
