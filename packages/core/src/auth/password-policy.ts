import { AppError } from "../errors";

type Checker = { check(password: string, userInputs?: string[]): { score: number; feedback: { warning: string | null } } };

let checker: Promise<Checker> | undefined;

// zxcvbn-ts with its common-password dictionaries (passwords, names, diceware, keyboard patterns). Loaded
// on first use: only register and password change pay for the dictionaries.
const load = (): Promise<Checker> =>
  (checker ??= (async () => {
    const [core, common] = await Promise.all([import("@zxcvbn-ts/core"), import("@zxcvbn-ts/language-common")]);
    const Factory = (core.ZxcvbnFactory ?? (core as unknown as { default: typeof core }).default.ZxcvbnFactory) as typeof core.ZxcvbnFactory;
    const lang = (common.dictionary ? common : (common as unknown as { default: typeof common }).default) as typeof common;
    return new Factory({ dictionary: { ...lang.dictionary }, graphs: lang.adjacencyGraphs });
  })());

const WHY: Record<string, string> = {
  topTen: "is one of the ten most common passwords",
  topHundred: "is one of the hundred most common passwords",
  common: "is a commonly used password",
  similarToCommon: "is too close to a commonly used password",
};

/**
 * Refuses passwords that zxcvbn scores 0 or 1 ("too guessable": found in or close to the common-password
 * lists, or a keyboard pattern, sequence or repeat), with a 422 that says why. `inputs` (email, name)
 * count as known to an attacker.
 */
export async function assertPasswordNotCommon(password: string, field: string, inputs: string[] = []): Promise<void> {
  const r = (await load()).check(password, inputs.filter(Boolean));
  if (r.score >= 2) return;
  const why = (r.feedback.warning && WHY[r.feedback.warning]) ?? "is too easy to guess (a common word, name, pattern or sequence)";
  throw new AppError("validation_error", "Request validation failed", {
    fields: [{ path: field, message: `${why}; choose a longer, less predictable password` }],
  });
}
