import { describe, expect, it } from "vitest";
import {
  decodeConversationCursor,
  decodeMessageCursor,
  encodeConversationCursor,
  encodeMessageCursor,
} from "../src/cursor";
import pg from "pg";
import { inlineParams, timestamptzToIso } from "../src/sql";

describe("timestamptzToIso", () => {
  it.each([
    ["2024-05-01 12:00:00.123456+02", "2024-05-01T10:00:00.123Z"],
    ["2024-05-01 12:00:00+00", "2024-05-01T12:00:00.000Z"],
    ["2024-05-01 12:00:00.5+05:30", "2024-05-01T06:30:00.500Z"],
    ["2024-12-31 23:59:59.999999-01", "2025-01-01T00:59:59.999Z"],
    ["1890-01-01 00:00:00-00:25:21", "1890-01-01T00:25:00.000Z"],
    ["2024-05-01T12:00:00.000001Z", "2024-05-01T12:00:00.000Z"],
  ])("%s → %s", (input, expected) => {
    expect(timestamptzToIso(input)).toBe(expected);
  });

  it("leaves values that are not plain timestamps alone", () => {
    expect(timestamptzToIso("infinity")).toBe("infinity");
    expect(timestamptzToIso("0044-03-15 12:00:00+00 BC")).toBe("0044-03-15 12:00:00+00 BC");
  });
});

describe("cursors", () => {
  it("round-trip their keys exactly", () => {
    const key = { updated_at: "2024-05-01T10:00:00.123456Z", id: "0b8f6d3e-8f38-4a4e-9d7c-1f2a3b4c5d6e" };
    const cursor = encodeConversationCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeConversationCursor(cursor)).toEqual(key);
    expect(decodeMessageCursor(encodeMessageCursor({ seq: "9007199254740993" }))).toEqual({ seq: "9007199254740993" });
  });
});

describe("inlineParams (node-postgres, one round trip)", () => {
  const utils = (pg as unknown as { utils: Parameters<typeof inlineParams>[2] }).utils;
  it("quotes each value as a literal, as libpq's PQescapeLiteral does", () => {
    expect(inlineParams("select $1::uuid, $2, $10 from t where a = $3 limit $2", ["u", 21, null, 4, 5, 6, 7, 8, 9, "it's \\ here"], utils)).toBe(
      "select 'u'::uuid, '21',  E'it''s \\\\ here' from t where a = NULL limit '21'",
    );
  });
  it("leaves quoted text and comments alone", () => {
    expect(inlineParams(`select '$1', "$1", $1 -- $1\n, $1`, ["v"], utils)).toBe(`select '$1', "$1", 'v' -- $1\n, 'v'`);
  });
  it("declines what it cannot be sure of", () => {
    for (const text of ["select E'\\'$1'", "select 'a\\' || $1", "select $$ $1 $$", "select $tag$x$tag$", "select /* $1 */ 1", "select a$1", "select $2"])
      expect(inlineParams(text, ["v"], utils)).toBeNull();
    expect(inlineParams("select $1", ["a\0b"], utils)).toBeNull();
    expect(inlineParams("select $1", [Buffer.from("x")], utils)).toBeNull();
  });
});
