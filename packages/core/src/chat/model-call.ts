// The upstream request of a reply, started as soon as its prompt is known: before begin_reply answered
// when that is safe (admit.ts), else once it did. Whoever started it either hands it to the
// reply loop or stops it.
import type { ModelCall, ReplyDeps, ReplyPlan, ReplyRequest } from "./types";

export function callModel(deps: Pick<ReplyDeps, "provider">, req: ReplyRequest, plan: Pick<ReplyPlan, "model" | "prompt" | "outputLimit">): ModelCall {
  const controller = new AbortController();
  let accept!: () => void;
  const accepted = new Promise<void>((resolve) => (accept = resolve));
  const iterator = deps.provider
    .complete({
      model: plan.model,
      messages: plan.prompt.messages,
      max_tokens: plan.outputLimit,
      temperature: req.body.temperature,
      reasoning_effort: req.body.reasoning_effort,
      tools: req.body.tools,
      tool_choice: req.body.tool_choice,
      server_tools: req.body.server_tools,
      signal: controller.signal,
      onAccepted: accept,
    })
    [Symbol.asyncIterator]();
  const first = iterator.next();
  first.then(accept, accept);
  return {
    iterator,
    first,
    controller,
    accepted,
    stop(reason) {
      if (!controller.signal.aborted) controller.abort(reason);
      // Nobody reads a stopped call: its failure is expected, and the request must be closed.
      first.catch(() => {});
      void iterator.return?.(undefined)?.catch(() => {});
    },
  };
}
