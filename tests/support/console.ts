import { vi } from "vitest";

/**
 * Captures console.error and console.warn for a test that provokes failures the handlers log
 * (`reply_failed`, 500s, `title_failed`), so the output stays quiet while the test can still read what
 * was logged. Call `restore()` afterwards.
 */
export function captureConsoleErrors() {
  // Our own list: restoring a spy also clears its recorded calls.
  const calls: unknown[][] = [];
  const spy = vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void calls.push(args));
  const warnSpy = vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void calls.push(args));
  return {
    calls,
    /** Every logged call's arguments, as text. */
    text: () => JSON.stringify(calls),
    restore: () => {
      spy.mockRestore();
      warnSpy.mockRestore();
    },
  };
}

/**
 * A reply's title is written after its stream ended, so in a file whose upstream is scripted to fail, a
 * failed title request can be logged after its test restored the console, even while the app shuts
 * down. Keeps exactly that line quiet for the rest of the file (each test file runs in its own process).
 */
export function quietLateTitleFailures(): void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('"title_failed"')) warn(...args);
  };
}
