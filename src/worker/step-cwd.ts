/**
 * Where a step runs: `<dir>/<builder_dir>/<workdir>`. Both parts come from
 * the master's config, so they are checked here: a step must not reach
 * outside the agent's base directory, nor into the agent's own state.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** The agent's own state (spool, running groups) lives here, under the base directory. */
export const STATE_DIR_NAME = '.shepherd';

/** Resolves a step's working directory, or throws an Error saying why it is refused. */
export function resolveStepCwd(baseDir: string, builderDir: string, workdir: string): string {
  const base = resolve(baseDir);
  const builder = resolve(base, builderDir);
  const cwd = resolve(builder, workdir);
  for (const [what, value, path] of [
    ['builder_dir', builderDir, builder],
    ['workdir', workdir, cwd],
  ] as const) {
    if (value.includes('\0')) throw new Error(`${what} ${JSON.stringify(value)} contains a NUL byte`);
    const inside = relative(base, path);
    if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      throw new Error(`${what} ${JSON.stringify(value)} escapes the worker directory ${base}`);
    }
    if (inside === STATE_DIR_NAME || inside.startsWith(`${STATE_DIR_NAME}${sep}`)) {
      throw new Error(`${what} ${JSON.stringify(value)} points into the agent's own state directory ${STATE_DIR_NAME}`);
    }
  }
  return cwd;
}
