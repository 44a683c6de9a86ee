/**
 * The agent's version, reported to the master in `hello.info.agent_version`.
 *
 * The one-file bundle has it baked in by esbuild (`define`), because the
 * bundle runs where no package.json exists. Unbundled (tests, `dist/src`),
 * it is read from the package.json above this file.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const SHEPHERD_AGENT_VERSION: string | undefined;

/** The version of this agent, e.g. `0.1.0`; `0.0.0-unknown` when it cannot be found. */
export const AGENT_VERSION: string = typeof SHEPHERD_AGENT_VERSION === 'string' ? SHEPHERD_AGENT_VERSION : readPackageVersion();

function readPackageVersion(): string {
  try {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (let depth = 0; depth < 6; depth++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === 'shepherd' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // No package.json here: keep climbing.
      }
      dir = dirname(dir);
    }
  } catch {
    // import.meta.url not a file URL: fall through.
  }
  return '0.0.0-unknown';
}
