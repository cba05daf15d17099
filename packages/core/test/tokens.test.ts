// Access tokens verified once are remembered per settings object until their own expiry: a hit must
// never outlive the token, nor carry over to other keys.
import { afterEach, describe, expect, it, vi } from "vitest";
import { generateSigningKey, issueAccessToken, prepareTokenKeys, publicJwkOf, verifyAccessToken, type TokenSettings } from "../src/auth/tokens";

const USER = "7c3d1b2e-0000-4000-8000-000000000001";
const settings = (secret: string): TokenSettings => ({ secret, issuer: "conversation-api", audience: "conversation-api", expiresInSeconds: 60 });

afterEach(() => vi.useRealTimers());

describe("verifyAccessToken's cache of verified tokens", () => {
  it("answers a repeated token with its user until the token expires, then refuses it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
    const s = settings("a".repeat(32));
    const { token } = await issueAccessToken(USER, s);
    expect(await verifyAccessToken(token, s)).toBe(USER);
    vi.setSystemTime(new Date("2026-01-01T00:00:59Z"));
    expect(await verifyAccessToken(token, s)).toBe(USER);
    vi.setSystemTime(new Date("2026-01-01T00:01:00Z"));
    await expect(verifyAccessToken(token, s)).rejects.toMatchObject({ status: 401, message: "Access token expired" });
  });

  it("does not carry a token verified under one key over to another", async () => {
    const a = settings("a".repeat(32));
    const b = settings("b".repeat(32));
    const { token } = await issueAccessToken(USER, a);
    expect(await verifyAccessToken(token, a)).toBe(USER);
    await expect(verifyAccessToken(token, b)).rejects.toMatchObject({ status: 401 });
  });

  it("still refuses a token whose signature was altered after a good one was remembered", async () => {
    const s = settings("c".repeat(32));
    const { token } = await issueAccessToken(USER, s);
    expect(await verifyAccessToken(token, s)).toBe(USER);
    const forged = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    await expect(verifyAccessToken(forged, s)).rejects.toMatchObject({ status: 401 });
  });
});

describe("prepareTokenKeys (a cold start imports the keys during init)", () => {
  it("imports an ES256 key set ahead of the check, and the check then accepts its tokens and refuses a foreign key's", async () => {
    const privateKey = await generateSigningKey("ES256");
    const s: TokenSettings = { privateKey, publicKeys: { keys: [publicJwkOf(privateKey)] }, issuer: "conversation-api", audience: "conversation-api", expiresInSeconds: 60 };
    await prepareTokenKeys(s);
    const { token } = await issueAccessToken(USER, s);
    expect(await verifyAccessToken(token, { ...s, privateKey: undefined })).toBe(USER);
    const other = await generateSigningKey("ES256");
    const { token: foreign } = await issueAccessToken(USER, { ...s, privateKey: { ...other, kid: privateKey.kid } });
    await expect(verifyAccessToken(foreign, { ...s, privateKey: undefined })).rejects.toMatchObject({ status: 401 });
  });

  it("never fails: a key it cannot import is left for the check to refuse", async () => {
    const s: TokenSettings = { publicKeys: { keys: [{ kty: "EC", crv: "P-256", x: "not-a-point", y: "not-a-point", kid: "k1" }] }, issuer: "i", audience: "a", expiresInSeconds: 60 };
    await expect(prepareTokenKeys(s)).resolves.toBeUndefined();
    const { token } = await issueAccessToken(USER, settings("d".repeat(32)));
    await expect(verifyAccessToken(token, s)).rejects.toMatchObject({ status: 401 });
  });
});
