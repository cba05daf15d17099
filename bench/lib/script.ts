// What the Groq stand-in answers: a fixed first-token delay, then N short tokens with a fixed gap.
import type { Step } from "../../tests/fixtures/groq-server";

export interface StreamScript {
  /** How many requests get this script. */
  count: number;
  /** Silence before the first token, ms. */
  firstTokenDelayMs: number;
  tokens: number;
  /** Silence between tokens, ms (0 = back to back). */
  gapMs: number;
}

/** Token i of every scripted answer: short words, as a model's tokens are. */
export const tokenText = (i: number) => (i === 0 ? "Hello" : " word");

export function scriptSteps(s: Omit<StreamScript, "count">): Step[] {
  const steps: Step[] = [];
  if (s.firstTokenDelayMs > 0) steps.push({ delay: s.firstTokenDelayMs });
  for (let i = 0; i < s.tokens; i++) {
    if (i > 0 && s.gapMs > 0) steps.push({ delay: s.gapMs });
    steps.push({ text: tokenText(i) });
  }
  steps.push({ finish: "stop", usage: { prompt_tokens: 12, completion_tokens: s.tokens } }, { done: true });
  return steps;
}
