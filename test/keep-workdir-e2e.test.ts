/**
 * Keeping a failed build's tree end to end: a real master process, a real
 * worker (the one-file bundle with a worker.yml that has `keep` and `debug`
 * sections), the `shepherd` CLI. A failing build of a builder with
 * `keep_workdir_on_failure` leaves its tree on the worker; a later build of
 * the same builder starts from a fresh directory and passes; `shepherd debug`
 * of the failed build still opens in (and shows) the failed tree, and the
 * build records where it is kept.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  apiGet,
  freePort,
  runCli,
  secret,
  startMasterProcess,
  startWorkerProcess,
  tempDir,
  waitFor,
  waitForWorkers,
  writeFile,
} from './helpers/farm.js';

function config(port: number): string {
  return `
master:
  listen: 127.0.0.1:${port}
  database: sqlite:./data/shepherd.sqlite
  data_dir: ./data
  api_token_env: SHEPHERD_API_TOKEN
workers:
  - { name: w1, secret_env: SECRET_W1 }
builders:
  - name: flaky
    workers: [w1]
    keep_workdir_on_failure: true
    steps:
      # Fails when the tree is not fresh: a kept tree is moved away, so the second build passes.
      - { name: build, run: "mkdir -p out && test ! -e out/marker && echo \${{ props.what }} > out/marker && test \${{ props.what }} = good", workdir: . }
      - { name: inspect, run: "true", workdir: out, always_run: true }
`;
}

describe('keep_workdir_on_failure', () => {
  it("keeps a failed build's tree for debug sessions after later builds of its builder", async () => {
    const dir = realpathSync(tempDir());
    const port = await freePort();
    const configPath = writeFile(dir, 'shepherd.yml', config(port));
    const workerSecret = secret();
    const env = { SHEPHERD_API_TOKEN: secret(), SECRET_W1: workerSecret };
    const { process: master, url } = await startMasterProcess(configPath, env);
    const yml = writeFile(dir, 'worker.yml', 'debug: { allow: true, max: 10m }\nkeep: { max_builds: 2, max_size: 100MB }\n');
    const worker = startWorkerProcess({ master: url.replace('http', 'ws'), name: 'w1', secret: workerSecret, dir: join(dir, 'w1'), extraArgs: ['--config', yml] });
    await waitForWorkers(url, ['w1']);
    const client = ([command, ...rest]: string[]) => runCli([command!, '--master', url, ...rest], { SHEPHERD_API_TOKEN: env.SHEPHERD_API_TOKEN });
    try {
      const failed = await client(['force', 'flaky', '-p', 'what=bad', '--wait', '--json']);
      expect(failed.code).toBe(1);
      const failedId = JSON.parse(failed.stdout).id as number;
      const kept = join(dir, 'w1', '.shepherd', 'kept', `flaky-${failedId}`);
      // The worker's answer lands on the build.
      await waitFor('the kept tree recorded on the build', async () => {
        const build = await apiGet(url, `/builds/${failedId}`);
        return build.properties?.workdir_kept ?? build.build?.properties?.workdir_kept;
      }).then((path) => expect(path).toBe(kept));

      // The next build starts in a fresh directory (the marker would fail it) and passes.
      const passed = await client(['force', 'flaky', '-p', 'what=good', '--wait', '--json']);
      expect(passed.code).toBe(0);
      const passedId = JSON.parse(passed.stdout).id as number;

      const pwd = await client(['debug', String(failedId), '--user', 'ada', '--', 'pwd']);
      expect(pwd.stderr).toBe('');
      expect(pwd.stdout).toBe(`${join(kept, 'out')}\n`);
      const marker = await client(['debug', String(failedId), '--user', 'ada', '--', 'cat', 'marker']);
      expect(marker.stdout).toBe('bad\n');
      expect(marker.code).toBe(0);
      // The passing build's own session opens in the builder's directory, with its own tree.
      const fresh = await client(['debug', String(passedId), '--user', 'ada', '--', 'cat', 'marker']);
      expect(fresh.stdout).toBe('good\n');
    } finally {
      await worker.stop();
      await master.stop();
    }
  }, 120_000);
});
