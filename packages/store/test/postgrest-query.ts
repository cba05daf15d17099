// Test fixture, not product code: translates the part of PostgREST's documented HTTP API that the
// Supabase store uses into SQL, the way PostgREST does (one statement, rows rendered by PostgreSQL's
// own json_agg, so timestamps and numbers come out exactly as PostgREST would send them).
//   GET    /t?select=a,b:c::text&col=op.value&or=(…)&order=a.desc,b&limit=n&offset=n
//   POST   /t?select=…            body: object or array  (insert; Prefer: return=representation)
//   PATCH  /t?filters&select=…    body: object           (update)
//   DELETE /t?filters&select=…                           (delete)
//   POST   /rpc/fn                body: named arguments
// Anything else is refused with PostgREST's error codes, so an adapter relying on more fails loudly.

export class PostgrestRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string | null = null,
  ) {
    super(message);
  }
}

const bad = (message: string, details: string | null = null) => new PostgrestRequestError(400, "PGRST100", message, details);

const IDENT = /^[a-z_][a-z0-9_]*$/;
const TYPE = /^[a-z_][a-z0-9_ ]*$/;
const ident = (name: string): string => {
  if (!IDENT.test(name)) throw bad(`"failed to parse" identifier ${name}`);
  return `"${name}"`;
};

/** Collects $n parameters. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Splits at top-level commas, respecting parentheses and double-quoted values. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const unquote = (v: string): string => (v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, "$1") : v);

// ---- select ----------------------------------------------------------------------------------

export function selectList(select: string | null, alias: string): string {
  if (select === null || select === "*") return `${alias}.*`;
  return splitTopLevel(select)
    .map((item) => {
      if (item.includes("(")) throw bad("resource embedding is not supported by this fixture", item);
      const m = /^(?:([a-z_][a-z0-9_]*):)?([a-z_][a-z0-9_]*)(?:::([a-z_][a-z0-9_ ]*))?$/.exec(item.trim());
      if (!m) throw bad(`"failed to parse select parameter (${select})"`);
      const [, as, column, cast] = m;
      if (cast !== undefined && !TYPE.test(cast)) throw bad(`bad cast ${cast}`);
      const expr = `${alias}.${ident(column!)}${cast ? `::${cast}` : ""}`;
      return `${expr} as ${ident(as ?? column!)}`;
    })
    .join(", ");
}

// ---- filters ---------------------------------------------------------------------------------

const COMPARISONS: Record<string, string> = { eq: "=", neq: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=", like: "like", ilike: "ilike" };
const RESERVED = new Set(["select", "order", "limit", "offset", "columns", "on_conflict", "or", "and", "not.or", "not.and"]);

/** `op.value` (optionally `not.op.value`) applied to `column`. */
function condition(column: string, opValue: string, alias: string, params: Params, inTree: boolean): string {
  let negate = false;
  let rest = opValue;
  if (rest.startsWith("not.")) {
    negate = true;
    rest = rest.slice(4);
  }
  const dot = rest.indexOf(".");
  if (dot === -1) throw bad(`"failed to parse filter (${opValue})"`);
  const op = rest.slice(0, dot);
  const raw = rest.slice(dot + 1);
  const col = `${alias}.${ident(column)}`;
  let sql: string;
  if (op in COMPARISONS) {
    const value = inTree ? unquote(raw) : raw;
    // PostgREST's like/ilike take `*` as the wildcard.
    sql = `${col} ${COMPARISONS[op]} ${params.add(op === "like" || op === "ilike" ? value.replace(/\*/g, "%") : value)}`;
  } else if (op === "is") {
    const v = raw.toLowerCase();
    if (!["null", "true", "false", "unknown"].includes(v)) throw bad(`"failed to parse filter (is.${raw})"`);
    sql = `${col} is ${v}`;
  } else if (op === "in") {
    if (!raw.startsWith("(") || !raw.endsWith(")")) throw bad(`"failed to parse filter (in.${raw})"`);
    const items = splitTopLevel(raw.slice(1, -1)).map(unquote);
    sql = items.length === 0 ? "false" : `${col} in (${items.map((v) => params.add(v)).join(", ")})`;
  } else {
    throw bad(`"failed to parse filter (${opValue})"`, `operator ${op} is not supported by this fixture`);
  }
  return negate ? `not (${sql})` : sql;
}

/** A logic tree: `(a.eq.1,and(b.lt."x",c.is.null))` combined with `joiner`. */
function logicTree(joiner: "and" | "or", body: string, alias: string, params: Params): string {
  if (!body.startsWith("(") || !body.endsWith(")")) throw bad(`"failed to parse logic tree (${body})"`);
  const items = splitTopLevel(body.slice(1, -1)).map((item) => {
    const nested = /^(not\.)?(and|or)(\(.*\))$/s.exec(item);
    if (nested) {
      const tree = logicTree(nested[2] as "and" | "or", nested[3]!, alias, params);
      return nested[1] ? `not ${tree}` : tree;
    }
    const dot = item.indexOf(".");
    if (dot === -1) throw bad(`"failed to parse logic tree (${body})"`);
    return condition(item.slice(0, dot), item.slice(dot + 1), alias, params, true);
  });
  return `(${items.join(` ${joiner} `)})`;
}

export function whereClause(query: URLSearchParams, alias: string, params: Params): string {
  const conditions: string[] = [];
  for (const [key, value] of query) {
    if (key === "or" || key === "and") conditions.push(logicTree(key, value, alias, params));
    else if (key === "not.or" || key === "not.and") conditions.push(`not ${logicTree(key.slice(4) as "and" | "or", value, alias, params)}`);
    else if (!RESERVED.has(key)) conditions.push(condition(key, value, alias, params, false));
  }
  return conditions.length ? ` where ${conditions.join(" and ")}` : "";
}

// ---- order, limit ----------------------------------------------------------------------------

export function orderClause(order: string | null, alias: string): string {
  if (!order) return "";
  const terms = order.split(",").map((term) => {
    const [column, ...mods] = term.split(".");
    const words = mods.map((m) => {
      if (m === "asc" || m === "desc") return m;
      if (m === "nullsfirst") return "nulls first";
      if (m === "nullslast") return "nulls last";
      throw bad(`"failed to parse order (${order})"`);
    });
    return [`${alias}.${ident(column!)}`, ...words].join(" ");
  });
  return ` order by ${terms.join(", ")}`;
}

function nonNegativeInt(value: string | null, name: string): number | null {
  if (value === null) return null;
  if (!/^\d+$/.test(value)) throw bad(`"failed to parse ${name} parameter (${value})"`);
  return Number(value);
}

export function limitClause(query: URLSearchParams): string {
  const limit = nonNegativeInt(query.get("limit"), "limit");
  const offset = nonNegativeInt(query.get("offset"), "offset");
  return `${limit === null ? "" : ` limit ${limit}`}${offset === null ? "" : ` offset ${offset}`}`;
}

// ---- statements ------------------------------------------------------------------------------

export interface Statement {
  text: string;
  params: unknown[];
}

const ROW = "_row";
const asJsonArray = (inner: string) => `select coalesce(json_agg(_t), '[]')::text as body from (${inner}) _t`;

export function readStatement(table: string, query: URLSearchParams): Statement {
  const params = new Params();
  const inner = `select ${selectList(query.get("select"), ROW)} from public.${ident(table)} ${ROW}${whereClause(query, ROW, params)}${orderClause(query.get("order"), ROW)}${limitClause(query)}`;
  return { text: asJsonArray(inner), params: params.values };
}

/** Columns a payload writes: `columns=` when given, else the keys of the (first) object. */
function payloadColumns(query: URLSearchParams, rows: Record<string, unknown>[]): string[] {
  const listed = query.get("columns");
  const columns = listed ? listed.split(",") : Object.keys(rows[0] ?? {});
  columns.forEach(ident);
  return columns;
}

function objects(body: unknown): Record<string, unknown>[] {
  const rows = Array.isArray(body) ? body : [body];
  if (!rows.every((r) => r !== null && typeof r === "object" && !Array.isArray(r))) throw bad("payload must be a JSON object or an array of objects");
  return rows as Record<string, unknown>[];
}

export function insertStatement(table: string, query: URLSearchParams, body: unknown): Statement {
  const params = new Params();
  const rows = objects(body);
  const cols = payloadColumns(query, rows).map(ident).join(", ");
  const t = `public.${ident(table)}`;
  // json_populate_recordset converts each value to its column's type, as PostgREST does.
  const insert = `insert into ${t} (${cols}) select ${cols} from json_populate_recordset(null::${t}, ${params.add(JSON.stringify(rows))}::json) returning *`;
  return { text: `with ${ROW} as (${insert}) ${asJsonArray(`select ${selectList(query.get("select"), ROW)} from ${ROW}`)}`, params: params.values };
}

export function updateStatement(table: string, query: URLSearchParams, body: unknown): Statement {
  const params = new Params();
  const [row] = objects(body);
  if (Array.isArray(body)) throw bad("PATCH takes a single object");
  const cols = payloadColumns(query, [row!]);
  const t = `public.${ident(table)}`;
  const sets = cols.map((c) => `${ident(c)} = _src.${ident(c)}`).join(", ");
  const src = `json_populate_record(null::${t}, ${params.add(JSON.stringify(row))}::json) _src`;
  const update = `update ${t} ${ROW} set ${sets} from ${src}${whereClause(query, ROW, params)} returning ${ROW}.*`;
  return { text: `with _changed as (${update}) ${asJsonArray(`select ${selectList(query.get("select"), ROW)} from _changed ${ROW}`)}`, params: params.values };
}

export function deleteStatement(table: string, query: URLSearchParams): Statement {
  const params = new Params();
  const del = `delete from public.${ident(table)} ${ROW}${whereClause(query, ROW, params)} returning ${ROW}.*`;
  return { text: `with _gone as (${del}) ${asJsonArray(`select ${selectList(query.get("select"), ROW)} from _gone ${ROW}`)}`, params: params.values };
}

export interface FunctionInfo {
  returnsSet: boolean;
  /** pg_type.typtype of the return type: 'c' composite, 'b' base, … */
  returnKind: string;
  args: { name: string; type: string }[];
}

export const FUNCTION_LOOKUP = `
  select p.proretset as returns_set, t.typtype::text as return_kind,
         coalesce(p.proargnames, '{}') as names,
         array(select format_type(a, null) from unnest(p.proargtypes) a) as types
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
    join pg_type t on t.oid = p.prorettype
   where n.nspname = 'public' and p.proname = $1`;

/** Calls `fn` with the body's keys as named arguments, rendering the result as PostgREST does. */
export function rpcStatement(fn: string, info: FunctionInfo, body: unknown): Statement {
  const params = new Params();
  const args = (body ?? {}) as Record<string, unknown>;
  if (typeof args !== "object" || Array.isArray(args)) throw bad("rpc arguments must be a JSON object");
  // A function without arguments takes no parameter at all (PostgreSQL refuses an unused one).
  const p = info.args.length > 0 ? params.add(JSON.stringify(args)) : "";
  const call = `public.${ident(fn)}(${info.args
    .map(({ name, type }) =>
      // json(b) arguments keep their JSON; everything else is converted from its text form.
      type === "jsonb" || type === "json" ? `${ident(name)} := (${p}::json -> '${name}')::${type}` : `${ident(name)} := (${p}::json ->> '${name}')::${type}`,
    )
    .join(", ")})`;
  if (info.returnsSet) return { text: asJsonArray(`select * from ${call}`), params: params.values };
  if (info.returnKind === "c") return { text: `select row_to_json(_t)::text as body from ${call} _t`, params: params.values };
  return { text: `select to_json(${call})::text as body`, params: params.values };
}
