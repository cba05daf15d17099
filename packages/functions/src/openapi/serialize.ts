/**
 * The committed form of the document: 2-space JSON with a trailing newline and object keys sorted, so
 * a regenerated file differs only where the API did. The members of a schema's `properties` keep
 * their declaration order, which is the order a reader (and Swagger UI) should see fields in.
 */
export function serializeDocument(doc: object): string {
  const sorted = sortKeys(doc, false) as Record<string, unknown>;
  // The top level reads best in the conventional order; anything else follows alphabetically.
  const keys = [...TOP.filter((k) => k in sorted), ...Object.keys(sorted).filter((k) => !TOP.includes(k))];
  const top = Object.fromEntries(keys.map((k) => [k, sorted[k]]));
  return JSON.stringify(top, null, 2) + "\n";
}

const TOP = ["openapi", "info", "servers", "security", "tags", "paths", "webhooks", "components"];

function sortKeys(value: unknown, keepOrder: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v, false));
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (!keepOrder) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v, k === "properties" && !keepOrder)]));
}
