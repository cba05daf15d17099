import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { migrate, openStore } from "../src/index";

const dir = mkdtempSync(join(tmpdir(), "store-persist-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("keeps data in a PGlite data directory across close and reopen", async () => {
  const dataDir = join(dir, "db");
  const first = await openStore({ dataDir });
  const user = await first.createUser({ email: "keep@example.com", password_hash: "h", display_name: null });
  const conversation = await first.forUser(user.id).createConversation({ title: "kept", system_prompt: null, model: "m" });
  await first.close();

  const second = await openStore({ dataDir });
  try {
    expect(await migrate(second.sql)).toEqual({ applied: [] });
    expect((await second.findLogin("keep@example.com"))?.user).toEqual(user);
    expect(await second.forUser(user.id).getConversation(conversation.id)).toEqual(conversation);
  } finally {
    await second.close();
  }
}, 120_000);
