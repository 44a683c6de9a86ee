/**
 * Artifacts end to end: a real master process and a real worker process
 * (the one-file bundle); a step declares `artifacts`, its files come back
 * over the worker's connection, one is stored and an oversized one is listed
 * as skipped, and `shepherd artifacts` lists and downloads them.
 *
 * Needs the master wired (the upload sink passed to acceptAgentSocket,
 * `collectSpec` in the coordinator's step command, `shepherd artifacts`
 * registered) and `npm run build`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiGet, runCli, secret, startMasterProcess, startWorkerProcess, tempDir, waitForWorkers, writeFile } from './helpers/farm.js';

describe('artifacts', () => {
  it('a step sends back a file by glob; an oversized one is listed as skipped; the CLI downloads the stored one', async () => {
    const dir = tempDir();
    const workerSecret = secret();
    const token = secret();
    const config = `
master:
  listen: 127.0.0.1:0
  database: sqlite:./data/shepherd.sqlite
  data_dir: ./data
  api_token_env: SHEPHERD_API_TOKEN
  artifacts: { max_file: 1MB }
workers:
  - { name: w1, secret_env: SHEPHERD_SECRET_W1 }
builders:
  - name: b
    workers: [w1]
    steps:
      - name: make
        run: mkdir -p out && head -c 200000 /dev/urandom > out/config.log && head -c 2000000 /dev/zero > out/core.1234 && echo built
        artifacts: [out/*]
`;
    const { process: master, url } = await startMasterProcess(writeFile(dir, 'shepherd.yml', config), { SHEPHERD_API_TOKEN: token, SHEPHERD_SECRET_W1: workerSecret });
    const workerDir = join(dir, 'w1');
    const worker = startWorkerProcess({ master: url.replace('http', 'ws'), name: 'w1', secret: workerSecret, dir: workerDir });
    await waitForWorkers(url, ['w1']);

    const forced = await runCli(['force', 'b', '--wait', '--json', '--master', url], { SHEPHERD_API_TOKEN: token });
    expect(forced.code, forced.stderr).toBe(0);
    const build = JSON.parse(forced.stdout) as { id: number; result: string };
    expect(build.result).toBe('SUCCESS');

    // Recorded before the step's result: no waiting needed once the build has finished.
    const list = await apiGet<{ artifacts: { name: string; size: number; skipped: string | null; url: string | null }[] }>(url, `/builds/${build.id}/artifacts`);
    expect(list.artifacts.map((a) => [a.name, a.size, a.skipped])).toEqual([
      ['out/config.log', 200_000, null],
      ['out/core.1234', 2_000_000, 'larger than the limit of 1 MiB per file'],
    ]);
    const onWorker = readFileSync(join(workerDir, 'b', 'out', 'config.log'));
    const stepId = (await apiGet<{ steps: { id: number }[] }>(url, `/builds/${build.id}`)).steps[0]!.id;
    expect(readFileSync(join(dir, 'data', 'files', String(build.id), String(stepId), 'artifact', 'out', 'config.log')).equals(onWorker)).toBe(true);

    const listed = await runCli(['artifacts', String(build.id), '--master', url]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^out\/config\.log\s+0:make\s+artifact\s+195\.3 KiB\s+yes$/m);
    expect(listed.stdout).toMatch(/^out\/core\.1234\s+0:make\s+artifact\s+1\.9 MiB\s+skipped: larger than the limit of 1 MiB per file$/m);

    const target = join(dir, 'downloaded.log');
    const got = await runCli(['artifacts', String(build.id), '--get', 'out/config.log', '-o', target, '--master', url]);
    expect(got.code, got.stderr).toBe(0);
    expect(readFileSync(target).equals(onWorker)).toBe(true);

    const missing = await runCli(['artifacts', String(build.id), '--get', 'out/core.1234', '--master', url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/out\/core\.1234 of build \d+ was not stored: larger than the limit of 1 MiB per file \(SHEPHERD_E_NOT_FOUND\)/);
    await worker.stop();
    await master.stop();
  });
});
