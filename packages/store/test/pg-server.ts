// A throwaway PostgreSQL server for tests: initdb into a temp dir, start on a free port, delete on
// stop. Reusable by any suite that needs a real PostgreSQL:
//
//   const pg = await startPostgres();            // or: postgresOrSkip() inside describe.skipIf
//   process.env.DATABASE_URL = pg.url;
//   ...
//   await pg.stop();
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres — superuser, trust auth. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Directory holding initdb and pg_ctl, or null when PostgreSQL is not installed. */
export function findPostgresBin(): string | null {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  // Newest major version first.
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, "bin");
    if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "pg_ctl"))) return bin;
  }
  return null;
}

/**
 * Whether suites needing PostgreSQL should run. Without the binaries they are skipped, unless
 * REQUIRE_POSTGRES=1 (CI), where a missing server must fail rather than pass silently.
 */
export function postgresAvailable(): boolean {
  const found = findPostgresBin() !== null && runAsUser() !== undefined;
  if (!found && process.env.REQUIRE_POSTGRES === "1") {
    throw new Error("REQUIRE_POSTGRES=1 but initdb/pg_ctl were not found (PATH or /usr/lib/postgresql/*/bin)");
  }
  return found;
}

interface OsUser {
  uid: number;
  gid: number;
  name: string;
}

/**
 * initdb refuses to run as root. As root we run the server as the `postgres` OS user; otherwise as
 * ourselves (null). undefined = root without a postgres user: cannot run.
 */
function runAsUser(): OsUser | null | undefined {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { uid, gid, name: "postgres" };
  } catch {
    return undefined;
  }
}

function run(user: OsUser | null, cmd: string, args: string[]): void {
  const [file, argv] = user ? ["runuser", ["-u", user.name, "--", cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const user = runAsUser();
  if (!bin || user === undefined) throw new Error("PostgreSQL binaries (or the postgres OS user) not available");

  const dir = mkdtempSync(join(tmpdir(), "pgtest-"));
  const data = join(dir, "data");
  if (user) chownSync(dir, user.uid, user.gid);
  const cleanup = () => rmSync(dir, { recursive: true, force: true });

  try {
    run(user, join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"]);
  } catch (e) {
    cleanup();
    throw e;
  }

  // The port can be taken between probing and binding; try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const opts = `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    try {
      run(user, join(bin, "pg_ctl"), ["-D", data, "-l", join(dir, "server.log"), "-o", opts, "-w", "-t", "60", "start"]);
    } catch (e) {
      lastError = e;
      continue;
    }
    let stopped = false;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          run(user, join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
        } finally {
          cleanup();
        }
      },
    };
  }
  cleanup();
  throw lastError;
}
