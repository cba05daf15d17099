// A database directory holds password hashes and every conversation: only its owner may read it.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

const GROUP_OTHER = 0o077;

/**
 * Creates `dir` (and any missing parent) with mode 0700, and closes an existing one to others. With
 * the directory closed, nothing inside can be reached by another user, whatever its own mode.
 */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Takes the group and other permission bits off everything under `dir`. PGlite's WASM file system
 * writes the files of a new cluster with mode 0666 (its own chmod, which no process umask masks), and
 * a directory an older version created may be open to all: both are closed here, once the database is
 * open. Symbolic links are neither followed nor changed.
 */
export function tightenModes(dir: string): void {
  const stack = [dir];
  while (stack.length) {
    const path = stack.pop()!;
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) continue; // removed by the database meanwhile, or a link (left alone)
    if (st.mode & GROUP_OTHER) chmodSync(path, st.mode & 0o7777 & ~GROUP_OTHER);
    if (st.isDirectory()) for (const name of readdirSync(path)) stack.push(join(path, name));
  }
}
