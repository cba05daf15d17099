import * as z from "zod";

const DAY_MS = 86_400_000;
const isoDateTime = z.iso.datetime({ offset: true }).or(z.iso.date());

/** Query of `GET /usage`: a half-open range [from, to), by default the last 30 days. */
export const UsageRequest = z
  .object({
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
    group_by: z.enum(["day", "model", "kind"]).default("day"),
  })
  .transform((q) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY_MS);
    return { from: from.toISOString(), to: to.toISOString(), group_by: q.group_by };
  })
  .refine((q) => inYears(q.from), { message: "must fall in the years 1 to 9999 (UTC)", path: ["from"] })
  .refine((q) => inYears(q.to), { message: "must fall in the years 1 to 9999 (UTC)", path: ["to"] })
  .refine((q) => q.from < q.to, { message: "from must be before to", path: ["from"] });

// PostgreSQL's timestamptz has no year 0, and a JS Date prints years outside 0–9999 with a sign that
// it rejects: either would fail in the database instead of here.
function inYears(iso: string): boolean {
  const y = new Date(iso).getUTCFullYear();
  return y >= 1 && y <= 9999;
}

export const UsageRow = z.object({
  key: z.string().describe("The day (YYYY-MM-DD, UTC), the model that answered, or the kind of call (reply or title)"),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  messages: z.number().int().describe("Assistant replies counted"),
  title_calls: z.number().int().describe("Model calls that wrote a conversation's title (their tokens are in the totals)"),
  mean_latency_ms: z.number().int().nullable(),
});
export type UsageRow = z.infer<typeof UsageRow>;

export const UsageReport = z.object({
  from: z.string(),
  to: z.string(),
  group_by: z.enum(["day", "model", "kind"]),
  data: z.array(UsageRow),
  totals: UsageRow.omit({ key: true }),
});
