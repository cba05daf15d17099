// input_tokens means one thing everywhere: the prompt that was sent. The offline model (no GROQ_API_KEY)
// used to report its own count (9) while message_start announced the prompt's (46).
import { afterAll, beforeAll, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { readSse, registerUser, stream } from "../support/http";
import { messages, newConversation } from "../groq/harness";

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app.close());

it("message_start, the stored reply and a resumed stream give the same input_tokens", async () => {
  const { token } = await registerUser(app.api, "tokens");
  const conv = await newConversation(app.api, token, { system_prompt: "Be brief." });
  for (const content of ["Hello there", "And a second, longer question about prompts"]) {
    const events = await readSse(await stream(app.api, conv, token, { content }));
    const announced = events[0]!.data.message.usage.input_tokens;
    const stored = (await messages(app.api, token, conv)).at(-1);
    expect(stored.id).toBe(events[0]!.data.message.id);
    expect(stored.input_tokens).toBe(announced);
    const resumed = await readSse(
      await fetch(`${app.api}/conversations/${conv}/messages/${stored.id}/stream`, { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(resumed[0]!.data.message.usage.input_tokens).toBe(announced);
  }
});
