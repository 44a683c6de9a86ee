// Bundles the worker agent into one file with no native dependencies:
// dist/shepherd-worker.mjs runs with plain `node` where `npm install` never ran.
import { build } from 'esbuild';

const { version } = JSON.parse(await (await import('node:fs/promises')).readFile(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: [new URL('../src/worker/main.ts', import.meta.url).pathname],
  outfile: new URL('../dist/shepherd-worker.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // ws loads these optional native speed-ups inside try/catch.
  external: ['bufferutil', 'utf-8-validate'],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __shepherdCreateRequire } from 'node:module';\nconst require = __shepherdCreateRequire(import.meta.url);",
  },
  define: { SHEPHERD_AGENT_VERSION: JSON.stringify(version) },
  legalComments: 'none',
  logLevel: 'warning',
});
