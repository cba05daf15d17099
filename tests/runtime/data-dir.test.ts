// DATA_DIR holds every password hash and conversation: `npm start` makes it 0700 and leaves nothing in
// it that the group or others could read, in a new directory and in one an older version left open.
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { call, readSse, stream } from "../support/http";
import { npmStart, type NpmStart } from "../support/npm-start";

let root: string;
let dataDir: string;
const started: NpmStart[] = [];
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "data-dir-"));
  dataDir = join(root, "nested", "data");
});
afterAll(async () => {
  for (const app of started) await app.kill();
  rmSync(root, { recursive: true, force: true });
});

/** Every path under `dir` (itself included) with its permission bits. */
function modes(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (path: string) => {
    const st = lstatSync(path);
    out.set(path, st.mode & 0o777);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return out;
}

/** Paths the group or others have any permission on, with their mode in octal. */
const openToOthers = (dir: string) => [...modes(dir)].filter(([, m]) => m & 0o077).map(([p, m]) => `${p.slice(dir.length)} ${m.toString(8)}`);

async function start(): Promise<NpmStart> {
  const app = await npmStart({ DATA_DIR: dataDir });
  started.push(app);
  return app;
}

async function stop(app: NpmStart) {
  process.kill(app.npm.pid!, "SIGTERM");
  expect(await app.exited).toEqual({ code: 0, signal: null });
}

const email = `private-${process.pid}@example.com`;
const password = "correct horse battery";

// Each test starts `npm start` on a database made on disk (PGlite's initdb and the migrations): on a
// busy machine that alone can take most of the default 30 s, as for npm-start.test.ts.
it("a new DATA_DIR is 0700 and nothing in it is open to others, after a register and a send and after the stop", { timeout: 120_000 }, async () => {
  const running = await start();
  const reg = await call(running.api, "POST", "/auth/register", { body: { email, password } });
  expect(reg.status).toBe(201);
  const token = reg.body.access_token as string;
  const conv = (await call(running.api, "POST", "/conversations", { token })).body.id as string;
  const events = await readSse(await stream(running.api, conv, token, { content: "hello" }));
  expect(events.at(-1)?.event).toBe("message_stop");

  expect(modes(dataDir).size).toBeGreaterThan(100); // the cluster is there, so the walk saw its files
  expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
  expect(lstatSync(join(root, "nested")).mode & 0o777).toBe(0o700); // a parent it had to create too
  expect(openToOthers(dataDir)).toEqual([]);
  await stop(running);
  expect(openToOthers(dataDir)).toEqual([]);
});

it("a directory an older version left open to everyone is closed at start, and its data still serves", { timeout: 120_000 }, async () => {
  // As the older version left it: directories 0777, files 0666, and one file of ours.
  for (const [path] of modes(dataDir)) chmodSync(path, lstatSync(path).isDirectory() ? 0o777 : 0o666);
  writeFileSync(join(dataDir, "left-over.txt"), "x", { mode: 0o666 });
  chmodSync(join(dataDir, "left-over.txt"), 0o666);
  expect(openToOthers(dataDir).length).toBeGreaterThan(100);

  const running = await start();
  expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
  expect(openToOthers(dataDir)).toEqual([]);
  const login = await call(running.api, "POST", "/auth/login", { body: { email, password } });
  expect(login.status).toBe(200);
  const list = await call(running.api, "GET", "/conversations", { token: login.body.access_token });
  expect(list.body.data).toHaveLength(1);
  await stop(running);
  expect(openToOthers(dataDir)).toEqual([]);
});
