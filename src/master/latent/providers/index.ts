/**
 * Each pool's provider, made from its config: the one place that knows every
 * provider kind. The pool service sees only the LatentProvider interface.
 */
import { join } from 'node:path';
import type { Clock } from '../../clock.js';
import type { LatentPoolConfig } from '../../config/schema.js';
import { createCommandProvider } from './command.js';
import { createEc2Provider } from './ec2.js';
import { createKubernetesProvider } from './kubernetes.js';
import { createLocalProvider } from './local.js';
import { masterTag, type LatentProvider } from './provider.js';

export interface ProviderContext {
  /** The master's id (`master.id`): the tag on every instance. */
  masterId: string;
  /** The master's data directory: local instances live under `latent/`. */
  dataDir: string;
  /** The directory of the config file: relative script paths of the command provider start there. */
  configDir: string;
  /** The built agent bundle, for local instances (undefined before `npm run build`). */
  bundle: string | undefined;
  env: NodeJS.ProcessEnv;
  clock: Clock;
}

/** A configured command: a string runs through /bin/sh -c. */
function argv(command: string | readonly string[]): string[] {
  return typeof command === 'string' ? ['/bin/sh', '-c', command] : [...command];
}

/** The provider of one pool. Throws (naming the pool) when it cannot be made, e.g. no agent bundle for a local pool. */
export function createProvider(pool: LatentPoolConfig, context: ProviderContext): LatentProvider {
  const tag = masterTag(context.masterId);
  switch (pool.provider) {
    case 'local':
      if (context.bundle === undefined) {
        throw new Error(`latent pool ${pool.name}: the local provider runs the worker bundle, which is not built: run \`npm run build\``);
      }
      return createLocalProvider({ baseDir: join(context.dataDir, 'latent'), tag, bundle: context.bundle, clock: context.clock });
    case 'command': {
      const commands = pool.command!;
      return createCommandProvider({
        pool: pool.name,
        tag,
        commands: { start: argv(commands.start), stop: argv(commands.stop), status: argv(commands.status), list: argv(commands.list) },
        env: context.env,
        cwd: context.configDir,
        clock: context.clock,
      });
    }
    case 'ec2':
      return createEc2Provider({ settings: pool.ec2!, tag, clock: context.clock });
    case 'kubernetes':
      return createKubernetesProvider({ settings: pool.kubernetes!, tag, env: context.env });
  }
}

/** Providers of every pool, by pool name. */
export function createProviders(pools: readonly LatentPoolConfig[], context: ProviderContext): Map<string, LatentProvider> {
  return new Map(pools.map((pool) => [pool.name, createProvider(pool, context)]));
}
