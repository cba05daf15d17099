// Vitest's global setup: what every run prepares once, before any test file runs.
import deploySetup from "./deploy/global-setup";
import { ensureEmptyPgliteImage, ensurePgliteImage } from "./support/pglite-image";

export default async function setup(): Promise<void> {
  // The downloads wait on the network and on npm's own processes; the images are this process's CPU.
  await Promise.all([deploySetup(), ensurePgliteImage().then(ensureEmptyPgliteImage)]);
}
