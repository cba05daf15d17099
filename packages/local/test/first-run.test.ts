// What a first `npm start` meets when its address is taken: a sentence naming PORT or HOST, before the
// database is opened, instead of an EADDRINUSE stack trace.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { listen, ListenError } from "../src/listen";

let taken: Server;
let port: number;
beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
  port = (taken.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => taken.close(() => r())));

it("explains a port in use with the setting to change", async () => {
  const err = await listen(createServer(), port, "127.0.0.1").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ListenError);
  expect(err).toMatchObject({ code: "EADDRINUSE" });
  expect((err as Error).message).toBe(
    `Port ${port} on 127.0.0.1 is already in use (another \`npm start\`?). Stop that process, or set PORT to a free port: PORT=${port + 1} npm start`,
  );
});

it("explains a HOST that is not this machine's", async () => {
  // 192.0.2.0/24 is reserved for documentation: never a local address.
  const err = await listen(createServer(), 0, "192.0.2.1").catch((e: unknown) => e);
  expect(err).toMatchObject({ code: "EADDRNOTAVAIL" });
  expect((err as Error).message).toMatch(/set HOST/);
});

it("binds when the address is free", async () => {
  const server = createServer();
  await listen(server, 0, "127.0.0.1");
  expect((server.address() as AddressInfo).port).toBeGreaterThan(0);
  await new Promise<void>((r) => server.close(() => r()));
});

it("`npm start` on a taken port exits 1 with that sentence, before opening the database", async () => {
  const dir = mkdtempSync(join(tmpdir(), "first-run-"));
  const dataDir = join(dir, "data");
  const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
  const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
  try {
    const child = spawn(tsx, [main], {
      cwd: dir, // no .env here
      env: { PATH: process.env.PATH, PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    const code = await new Promise<number | null>((r) => child.on("close", r));
    expect(code).toBe(1);
    expect(out.trim()).toBe(
      `Port ${port} on 127.0.0.1 is already in use (another \`npm start\`?). Stop that process, or set PORT to a free port: PORT=${port + 1} npm start`,
    );
    // PGlite never ran: it would have created the folder.
    expect(existsSync(dataDir)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
