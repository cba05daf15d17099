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

/**
 * Token i goes out at firstTokenDelayMs + i × gapMs after the answer began, on the stand-in's own clock
 * (as a model's tokens come at the model's pace): a timer that fires late, because the stand-in shares
 * the cores with the subject, delays that token only, not every token after it. With "sleep 1 ms after
 * each token", each such delay would add up and stretch the whole stream by however much CPU the
 * subject used meanwhile.
 */
export function scriptSteps(s: Omit<StreamScript, "count">): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < s.tokens; i++) {
    const at = s.firstTokenDelayMs + i * s.gapMs;
    if (at > 0 && (i === 0 || s.gapMs > 0)) steps.push({ at });
    steps.push({ text: tokenText(i) });
  }
  steps.push({ finish: "stop", usage: { prompt_tokens: 12, completion_tokens: s.tokens } }, { done: true });
  return steps;
}
