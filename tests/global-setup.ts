// Vitest's global setup: what every run prepares once, before any test file runs.
import deploySetup from "./deploy/global-setup";
import { ensureEmptyPgliteImage, ensurePgliteImage } from "./support/pglite-image";

export default async function setup(): Promise<void> {
  deploySetup();
  await ensurePgliteImage();
  await ensureEmptyPgliteImage();
}
