/** Method + path matching with API Gateway route syntax: `/a/{id}` and a trailing greedy `/{proxy+}`. */

export interface RoutePattern {
  method: string;
  path: string;
}

export type MatchResult<R> =
  | { type: "match"; route: R; params: Record<string, string> | undefined }
  | { type: "method_not_allowed"; allow: string[] }
  | { type: "not_found" };

const LITERAL = 0;
const PARAM = 1;
const GREEDY = 2;
type Segment = { kind: typeof LITERAL; value: string } | { kind: typeof PARAM | typeof GREEDY; name: string };

interface Compiled<R> {
  route: R;
  method: string;
  segments: Segment[];
}

export function createRouter<R extends RoutePattern>(routes: readonly R[]): (method: string, rawPath: string) => MatchResult<R> {
  // Most specific first (literal before {param} before {greedy+}, segment by segment), as API Gateway
  // prefers `/conversations/search` over `/conversations/{id}`.
  const compiled = routes.map((route) => ({ route, method: route.method.toUpperCase(), segments: compile(route.path) }));
  compiled.sort((a, b) => compareSpecificity(a.segments, b.segments));

  return (method, rawPath) => {
    const parts = rawPath.split("/").map(safeDecode);
    const wanted = method.toUpperCase();
    let allow: Set<string> | undefined;
    for (const c of compiled) {
      const params = matchSegments(c, parts);
      if (params === null) continue;
      if (c.method === wanted) return { type: "match", route: c.route, params };
      (allow ??= new Set()).add(c.method);
    }
    return allow ? { type: "method_not_allowed", allow: [...allow] } : { type: "not_found" };
  };
}

function compile(path: string): Segment[] {
  return path.split("/").map((s): Segment => {
    if (s.startsWith("{") && s.endsWith("+}")) return { kind: GREEDY, name: s.slice(1, -2) };
    if (s.startsWith("{") && s.endsWith("}")) return { kind: PARAM, name: s.slice(1, -1) };
    return { kind: LITERAL, value: s };
  });
}

/** Decoded params on a match (undefined when the route has none), null otherwise. */
function matchSegments<R>(c: Compiled<R>, parts: (string | null)[]): Record<string, string> | undefined | null {
  const segs = c.segments;
  let params: Record<string, string> | undefined;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (seg.kind === GREEDY) {
      const rest = parts.slice(i);
      if (rest.length === 0 || rest.some((p) => p === null) || rest.join("/") === "") return null;
      (params ??= {})[seg.name] = rest.join("/");
      return params;
    }
    const part = parts[i];
    if (part === undefined || part === null) return null;
    if (seg.kind === LITERAL) {
      if (part !== seg.value) return null;
    } else {
      if (part === "") return null;
      (params ??= {})[seg.name] = part;
    }
  }
  return parts.length === segs.length ? params : null;
}

function compareSpecificity(a: Segment[], b: Segment[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = a[i]!.kind - b[i]!.kind;
    if (d !== 0) return d;
  }
  return b.length - a.length;
}

// A malformed %-escape can never name a route segment; null makes the path not match.
function safeDecode(s: string): string | null {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
