// How the store reaches the database: one SQL function of schema public per call, its arguments by
// name, as one signed-in user or as the server, answered with the function's result as JSON in
// PostgREST's rendering (a set-returning function's rows as an array of objects). Two transports: SQL
// (below) and PostgREST (supabase/store.ts); the store (store.ts) is written once over either.
import type { UserCredential } from "@conversation-api/core";
import type { LocalSettings, SqlClient } from "./sql";

export type RpcArgs = Record<string, unknown>;

/**
 * Calls public.<fn>(<name> => <value>, …); `returns` says when the function returns a set ("rows")
 * or a composite row ("row") rather than a scalar or JSON. Resolves to the JSON as parsed (null for
 * SQL null): the mapper that reads it gives it its type.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON whose shape the called function defines
export type Call = (fn: string, args: RpcArgs, returns?: "rows" | "row") => Promise<any>;

export interface Rpc {
  /** With server privileges: the connection's own role (SQL) or the secret key (PostgREST). */
  server: Call;
  /** As this user, under RLS. Throws when the transport cannot act for them (no credential to forward). */
  user(userId: string, credential?: UserCredential): Call;
  /** The database lives in this process (embedded PGlite, on this thread or in its worker): see SqlClient. */
  readonly inProcess?: boolean;
  health(): Promise<boolean>;
  close(): Promise<void>;
}

const NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * Over a SQL connection: a user's call is one statement run as role `authenticated` with the user's
 * JWT claims (queryAs), exactly as PostgREST runs it; a server call runs as the connection's own role.
 * One statement text per function and argument list, so a driver that prepares statements does so once.
 */
export function sqlRpc(sql: SqlClient): Rpc {
  const statements = new Map<string, string>();
  const statement = (fn: string, names: string[], returns: "rows" | "row" | undefined): string => {
    const key = `${fn}(${names.join()})${returns ?? ""}`;
    let text = statements.get(key);
    if (text === undefined) {
      if (![fn, ...names].every((n) => NAME.test(n))) throw new Error(`Not a function or argument name: ${key}`);
      const call = `public.${fn}(${names.map((n, i) => `${n} => $${i + 1}`).join(", ")})`;
      // Rendered as PostgREST renders them: the rows of a set as an array, a row as an object.
      text =
        returns === "rows" ? `select coalesce(json_agg(r), '[]') as r from ${call} r`
        : returns === "row" ? `select to_json(${call}) as r`
        : `select ${call} as r`;
      statements.set(key, text);
    }
    return text;
  };
  const caller =
    (run: (text: string, params: unknown[]) => Promise<{ r: unknown }[]>): Call =>
    async (fn, args, returns) => {
      const names = Object.keys(args);
      const params = names.map((n) => (args[n] !== null && typeof args[n] === "object" ? JSON.stringify(args[n]) : args[n]));
      const [row] = await run(statement(fn, names, returns), params);
      return row?.r ?? null;
    };

  return {
    server: caller((text, params) => sql.query(text, params)),
    user(userId) {
      const identity: LocalSettings = [
        ["role", "authenticated"],
        ["request.jwt.claims", JSON.stringify({ sub: userId, role: "authenticated" })],
      ];
      return caller((text, params) => sql.queryAs(identity, text, params));
    },
    inProcess: sql.inProcess ?? false,
    health: () => sql.query("select 1").then(() => true, () => false),
    close: () => sql.close(),
  };
}
