/**
 * `shepherd demo` after only the server was compiled (tsc, no `npm run
 * build`): it builds the web UI with vite before starting, so the farm it
 * shows has its UI. Runs in a copy of the repository without dist/web, so
 * the real dist/web (which other tests serve) is never touched.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManagedProcess, ROOT, tempDir } from './helpers/farm.js';

describe('shepherd demo without a built UI', () => {
  let demo: ManagedProcess | undefined;

  afterAll(async () => {
    await demo?.stop();
  });

  it('the demo command builds the web UI when missing', async () => {
    const copy = tempDir('shepherd-ui-demo-build-');
    for (const path of ['package.json', 'web', 'src', 'examples', 'dist/src', 'dist/shepherd-worker.mjs']) {
      cpSync(join(ROOT, path), join(copy, path), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
    expect(existsSync(join(copy, 'dist/web'))).toBe(false);
    const dir = join(copy, 'demo-data');
    mkdirSync(dir);

    const child = spawn(process.execPath, [join(copy, 'dist/src/cli/main.js'), 'demo', '--dir', dir, '--port', '0'], {
      cwd: copy,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo = new ManagedProcess('shepherd demo (no UI built)', child);
    await demo.waitForOutput(/the web UI is not built .*building it/);
    const [, url] = await demo.waitForOutput(/master\s+(http:\/\/\S+)/, 60_000);
    expect(demo.stderr).not.toMatch(/could not build the web UI/);
    expect(existsSync(join(copy, 'dist/web/index.html'))).toBe(true);

    // The master serves the freshly built app, and the script it names.
    const index = await (await fetch(`${url}/`)).text();
    expect(index).toContain('<div id="root">');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    await demo.stop();
  }, 90_000);
});
