/**
 * Stopping on-demand instances a test's master started. A master leaves its
 * instances running when it stops (its next start adopts them), so a test
 * whose master started `local` instances stops them itself, failed or not.
 */
import { join } from 'node:path';
import { createLocalProvider } from '../../src/master/latent/providers/local.js';
import { masterTag } from '../../src/master/latent/providers/provider.js';
import { WORKER_BUNDLE } from './farm.js';

/** Stops every local instance under `dataDir/latent` (their agents and the steps they run); returns how many ran. */
export async function stopLocalInstances(dataDir: string, masterId = 'shepherd'): Promise<number> {
  const provider = createLocalProvider({ baseDir: join(dataDir, 'latent'), tag: masterTag(masterId), bundle: WORKER_BUNDLE, graceMs: 2_000 });
  const running = await provider.list();
  await Promise.all(running.map((instance) => provider.stop(instance.id)));
  return running.length;
}
