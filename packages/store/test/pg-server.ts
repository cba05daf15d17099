// A throwaway PostgreSQL server for tests: a copy of a fresh initdb'd cluster (made once, see
// initializedCluster) in a temp dir, started on a free port, deleted on stop. Reusable by any suite that needs a real PostgreSQL:
//
//   import { postgresAvailable, startPostgres } from "@conversation-api/store/test/pg-server";
//   describe.skipIf(!postgresAvailable())("…", () => {
//     let pg: PostgresServer;
//     beforeAll(async () => { pg = await startPostgres(); }, 120_000);
//     afterAll(() => pg?.stop());
//     // connect with pg.url
//   });
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

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

const shellQuote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;

const firstExisting = (paths: string[]) => paths.find((p) => existsSync(p));

/** The command line that runs `cmd` as `user` (runuser, else su); sbin is often not on PATH. */
function commandLine(user: OsUser | null, cmd: string, args: string[]): [string, string[]] {
  if (!user) return [cmd, args];
  const runuser = firstExisting(["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"]);
  if (runuser) return [runuser, ["-u", user.name, "--", cmd, ...args]];
  const line = [cmd, ...args].map(shellQuote).join(" ");
  return [firstExisting(["/usr/bin/su", "/bin/su"]) ?? "su", [user.name, "-s", "/bin/sh", "-c", line]];
}

function run(user: OsUser | null, cmd: string, args: string[]): void {
  const [file, argv] = commandLine(user, cmd, args);
  const r = spawnSync(file, argv, { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) {
    const why = r.error?.message ?? `exit ${r.status ?? r.signal}`;
    throw new Error(`${cmd} ${args.join(" ")} failed (${why}):\n${r.stdout ?? ""}\n${r.stderr ?? ""}`);
  }
}

/**
 * A detached shell that stops the server and deletes its directory once this process is gone,
 * however it ended (test runners may SIGTERM or SIGKILL their workers, skipping every exit hook).
 * After a normal stop the directory is gone and the watchdog just exits.
 */
function spawnWatchdog(user: OsUser | null, pgCtl: string, data: string, dir: string): void {
  const [file, argv] = commandLine(user, pgCtl, ["-D", data, "-m", "immediate", "-w", "stop"]);
  const stop = [file, ...argv].map(shellQuote).join(" ");
  const script = [
    `while kill -0 ${process.pid} 2>/dev/null && [ -d ${shellQuote(dir)} ]; do sleep 1; done`,
    `if [ -d ${shellQuote(dir)} ]; then ${stop} >/dev/null 2>&1; rm -rf ${shellQuote(dir)}; fi`,
  ].join("; ");
  spawn("/bin/sh", ["-c", script], { detached: true, stdio: "ignore" }).unref();
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

const INITDB_ARGS = ["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"];
const CACHE = join(fileURLToPath(new URL("../../..", import.meta.url)), "node_modules", ".cache", "conversation-api");

/** `cp -a`: the copy keeps the owner (the postgres OS user) and initdb's 0700 modes, which the server requires. */
function copyTree(from: string, to: string): void {
  const r = spawnSync("cp", ["-a", from, to], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to} failed: ${r.error?.message ?? r.stderr}`);
}

/**
 * A data directory fresh from initdb, made once per server version, initdb options and owner, and kept
 * in node_modules/.cache: every server starts from its own copy of it, the same files initdb would write
 * for it, at a fraction of initdb's cost (seconds per server on a busy machine).
 */
function initializedCluster(bin: string, user: OsUser | null): string {
  const version = execFileSync(join(bin, "initdb"), ["--version"], { encoding: "utf8" }).trim();
  const key = createHash("sha256").update([bin, version, user ? `${user.uid}:${user.gid}` : `self:${process.getuid?.()}`, ...INITDB_ARGS].join("\n"));
  const cluster = join(CACHE, `pg-cluster-${key.digest("hex").slice(0, 16)}`);
  if (existsSync(cluster)) return cluster;
  const work = mkdtempSync(join(tmpdir(), "pginit-"));
  try {
    if (user) chownSync(work, user.uid, user.gid);
    run(user, join(bin, "initdb"), ["-D", join(work, "data"), ...INITDB_ARGS]);
    mkdirSync(CACHE, { recursive: true });
    // Whole or not at all: another process may be making or reading the same directory.
    const partial = `${cluster}.${process.pid}`;
    copyTree(join(work, "data"), partial);
    try {
      renameSync(partial, cluster);
    } catch (e) {
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(cluster)) throw e;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return cluster;
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
    copyTree(initializedCluster(bin, user), data);
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
    spawnWatchdog(user, join(bin, "pg_ctl"), data, dir);
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
