// `npm start` stops its server when npm is told to stop: SIGTERM or SIGINT to the npm process alone
// (a supervisor, an IDE's stop button) or to its whole process group (Ctrl-C in a terminal).
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, expect, it } from "vitest";
import { npmStart, type NpmStart } from "../support/npm-start";

const started: NpmStart[] = [];
afterAll(async () => {
  for (const app of started) await app.kill();
});

/** True when something on the port answers; false when nothing listens (refused at once). */
async function answers(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/api/v1/health`);
    return true;
  } catch {
    return false;
  }
}

/** The processes under `pid` that run the server (found in /proc), whatever shell or wrapper is between. */
function serverProcesses(pid: number): number[] {
  const procs = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        // Field 4 of /proc/<pid>/stat is the parent pid; the command name (field 2) may hold spaces.
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8");
        return [{ pid: Number(name), parent: Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]), cmdline }];
      } catch {
        return []; // exited meanwhile
      }
    });
  const under = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (under.has(p.parent) && !under.has(p.pid)) grew = Boolean(under.add(p.pid));
  }
  return procs.filter((p) => under.has(p.pid) && p.cmdline.includes("packages/local/src/main.ts")).map((p) => p.pid);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

for (const [signal, target] of [
  ["SIGTERM", "npm"],
  ["SIGINT", "group"],
] as const) {
  it(`${signal} to ${target === "npm" ? "the npm process alone" : "npm's process group"} ends the server`, { timeout: 120_000 }, async () => {
    const app = await npmStart({ DATA_DIR: "memory://" });
    started.push(app);
    expect(await answers(app.url)).toBe(true);
    const servers = serverProcesses(app.npm.pid!);
    expect(servers.length).toBeGreaterThan(0);

    process.kill(target === "npm" ? app.npm.pid! : -app.npm.pid!, signal);
    // npm exits once its child has: the graceful close finished.
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.output()).toContain(`${signal}: shutting down`);
    expect(servers.filter(alive)).toEqual([]);
    expect(await answers(app.url)).toBe(false);
  });
}
