import { describe, expect, it } from "vitest";
import {
  decodeConversationCursor,
  decodeMessageCursor,
  encodeConversationCursor,
  encodeMessageCursor,
} from "../src/cursor";
import { timestamptzToIso } from "../src/sql";

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
