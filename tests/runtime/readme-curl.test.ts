// The README's "A session with curl", run as written (bash, curl, node) against the local runtime:
// twice on one database (the second run logs in), continued with the blocks that say they continue it,
// and once with a wrong password, which must end in one clean line, never a stack trace.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { ROOT } from "../support/npm-start";

const PASSWORD = "correct horse battery";

/** The bash blocks of the README section "A session with curl", in order. */
function sessionBlocks(): string[] {
  const readme = readFileSync(`${ROOT}/README.md`, "utf8");
  const start = readme.indexOf("\n## A session with curl\n");
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start + 1, readme.indexOf("\n## ", start + 1));
  return [...section.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

function run(script: string, api: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Asynchronous: the runtime answering the script lives in this process's event loop.
    const child = spawn("bash", ["-c", script], { env: { PATH: process.env.PATH, HOME: process.env.HOME, API: api }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const STACK_LINE = /^ {4}at /m;
// curl is part of Debian's base image; without it (and not on CI) there is nothing to run the README with.
const haveCurl = spawnSync("sh", ["-c", "command -v curl"]).status === 0;

describe.skipIf(!haveCurl && !process.env.CI)("README: a session with curl", { timeout: 120_000 }, () => {
  let app: TestApp;
  let blocks: string[];
  beforeAll(async () => {
    app = await startApp();
    blocks = sessionBlocks();
  });
  afterAll(() => app.close());

  const session = () => blocks[0]!;
  const continuing = (marker: string) => {
    const block = blocks.find((b) => b.includes(marker));
    expect(block, marker).toBeDefined();
    return block!;
  };

  it("runs on a fresh database: registers, creates a conversation, streams a reply, lists both messages", async () => {
    expect(session()).toContain(PASSWORD);
    const r = await run(session(), app.api);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("event: message_stop");
    const list = JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('{"data":')));
    expect(list.data.map((m: { role: string }) => m.role)).toEqual(["user", "assistant"]);
  });

  it("runs again on the same database (register answers 409, so it logs in), and the blocks that continue it run too", async () => {
    const script = [session(), continuing("/regenerate"), continuing("/auth/refresh")].join("\n");
    const r = await run(script, app.api);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/event: message_stop/g)).toHaveLength(2); // the send and the regenerate
    expect(r.stdout).toContain('"leaf_id"');
    expect(r.stdout).toContain("Hello!"); // the Markdown export
  });

  it("the tool block continues it: the reply calls the offered tool, and the tool_result send gets an answer from the result", async () => {
    const script = [session(), continuing("tool_use_id")].join("\n");
    const r = await run(script, app.api);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code).toBe(0);
    // The session's send and the tool_result send (the call's stream is read by the script itself).
    expect(r.stdout.match(/event: message_stop/g)).toHaveLength(2);
    expect(r.stdout).toMatch(/"stop_reason":"end_turn"[\s\S]*$/);
    const text = [...r.stdout.matchAll(/"text_delta","text":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`)).join("");
    expect(text).toContain('The tool returned: "Sunny, 18 degrees"');
  });

  it("with a wrong password stops with one clean line on stderr, and no stack trace", async () => {
    const wrong = session().replace(PASSWORD, "not the right password");
    expect(wrong).not.toBe(session());
    const r = await run(wrong, app.api);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/TOKEN: could not register or log in$/)]);
  });
});
