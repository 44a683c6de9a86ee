/**
 * Per-test results end to end, the issue's must-shows, with a real master,
 * real worker processes and the real CLI:
 *
 * - a step writes JUnit XML with one failing test: the build shows it, the
 *   test's history lists it, and after a second build where it passes on
 *   the same revision it is marked flaky;
 * - a step with `rerun_failed` whose test fails once then passes: the step
 *   is WARNINGS and the test flaky;
 * - the same test failing on two workers and passing on a third: the
 *   separating dimension is named.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGet, runCli, secret, startMasterProcess, startWorkerProcess, tempDir, waitForWorkers, writeFile, type ManagedProcess } from './helpers/farm.js';

// Fails the first time it runs in a builder's directory, passes after: the same code, a flaky test.
const JUNIT_STEP = [
  'n=$(cat runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > runs; mkdir -p out',
  'if [ "$n" = 1 ]; then case_body=\'<failure message="expected 2, got 3">Traceback: assert 2 == 3</failure>\'; else case_body=; fi',
  'printf \'<testsuite name="unit" tests="2"><testcase classname="test_math" name="test_add" time="0.01">%s</testcase><testcase classname="test_math" name="test_sub" time="0.02"/></testsuite>\' "$case_body" > out/results.xml',
  '[ "$n" != 1 ]',
].join('\n');

// TAP: test_net fails on the first run; the re-run of just the failed tests passes.
const TAP_STEP = "printf '1..2\\nok 1 - test_io\\nnot ok 2 - test_net\\n'; exit 1";
const TAP_RERUN = "sh -c 'echo 1..1; for t; do echo \"ok 1 - $t\"; done' rerun {tests}";

// Fails where the worker is not w1.
const PLATFORM_STEP = 'if [ "${{ props.worker }}" = w1 ]; then printf "1..1\\nok 1 - test_float\\n"; else printf "1..1\\nnot ok 1 - test_float\\n"; exit 1; fi';

const CONFIG = `
master:
  listen: 127.0.0.1:0
  database: sqlite:./data/shepherd.sqlite
  data_dir: ./data
  api_token_env: SHEPHERD_API_TOKEN
workers:
  - { name: w1, secret_env: SECRET_W1, dimensions: { os: linux, arch: x86_64 } }
  - { name: w2, secret_env: SECRET_W2, dimensions: { os: linux, arch: s390x } }
  - { name: w3, secret_env: SECRET_W3, dimensions: { os: linux, arch: s390x } }
builders:
  - name: junit
    workers: [w1]
    steps:
      - name: test
        run: ${JSON.stringify(JUNIT_STEP)}
        test_results: { junit: "out/*.xml" }
  - name: tap-rerun
    workers: [w1]
    steps:
      - name: test
        run: ${JSON.stringify(TAP_STEP)}
        test_results: { parse: tap }
        rerun_failed: ${JSON.stringify(TAP_RERUN)}
      - { name: after, run: "echo after" }
${['w1', 'w2', 'w3']
  .map((w) => `  - name: float-${w}\n    workers: [${w}]\n    steps:\n      - name: test\n        run: ${JSON.stringify(PLATFORM_STEP)}\n        test_results: { parse: tap }`)
  .join('\n')}
`;

interface BuildJson {
  id: number;
  result: string;
}

let master: ManagedProcess;
let url: string;
const workers: ManagedProcess[] = [];
const token = secret();

async function force(builder: string, revision = 'abc123'): Promise<BuildJson> {
  const forced = await runCli(['force', builder, '-p', `revision=${revision}`, '--wait', '--json', '--master', url], { SHEPHERD_API_TOKEN: token });
  expect([0, 1], forced.stderr).toContain(forced.code);
  return JSON.parse(forced.stdout) as BuildJson;
}

beforeAll(async () => {
  const dir = tempDir();
  const secrets = { SECRET_W1: secret(), SECRET_W2: secret(), SECRET_W3: secret() };
  ({ process: master, url } = await startMasterProcess(writeFile(dir, 'shepherd.yml', CONFIG), { SHEPHERD_API_TOKEN: token, ...secrets }));
  master.shareAcrossTests();
  for (const name of ['w1', 'w2', 'w3']) {
    const key = `SECRET_${name.toUpperCase()}` as keyof typeof secrets;
    workers.push(startWorkerProcess({ master: url.replace('http', 'ws'), name, secret: secrets[key], dir: join(dir, name) }).shareAcrossTests());
  }
  await waitForWorkers(url, ['w1', 'w2', 'w3']);
}, 60_000);

afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await master?.stop();
});

describe('test results', () => {
  it('shows a JUnit failure, lists it in the history, and marks it flaky when it passes on the same revision', async () => {
    const first = await force('junit');
    expect(first.result).toBe('FAILURE');
    const tests = await apiGet(url, `/builds/${first.id}/tests`);
    expect(tests).toMatchObject({ summary: '1 failed of 2', total: 2, counts: { failed: 1, passed: 1 } });
    expect(tests.tests[0]).toMatchObject({ name: 'test_math.test_add', result: 'failed', worker: 'w1', revision: 'abc123' });
    expect(tests.tests[0].message).toContain('expected 2, got 3');

    const shown = await runCli(['tests', String(first.id), '--master', url]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('1 failed of 2');
    expect(shown.stdout).toContain('test_math.test_add');

    const second = await force('junit');
    expect(second.result).toBe('SUCCESS');
    const history = await apiGet(url, '/tests/history?name=test_math.test_add');
    expect(history.runs.map((r: { build_id: number; result: string; flaky: boolean }) => [r.build_id, r.result, r.flaky])).toEqual([
      [second.id, 'passed', true],
      [first.id, 'failed', true],
    ]);
    const cli = await runCli(['test-history', 'test_math.test_add', '--master', url]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/flaky/);
  }, 60_000);

  it('re-runs the failed tests: the step is WARNINGS, the test flaky, and the build goes on', async () => {
    const build = await force('tap-rerun');
    expect(build.result).toBe('WARNINGS');
    const detail = await apiGet(url, `/builds/${build.id}`);
    expect(detail.steps.map((s: { name: string; result: string }) => [s.name, s.result])).toEqual([
      ['test', 'WARNINGS'],
      ['test (re-run)', 'SUCCESS'],
      ['after', 'SUCCESS'],
    ]);
    const log = await runCli(['log', String(build.id), '--step', '1', '--master', url]);
    expect(log.stdout).toContain('ok 1 - test_net');
    const history = await apiGet(url, '/tests/history?name=test_net');
    expect(history.runs.map((r: { result: string; flaky: boolean; rerun: boolean }) => [r.result, r.rerun, r.flaky])).toEqual([
      ['passed', true, true],
      ['failed', false, true],
    ]);
  }, 60_000);

  it('names the dimension that separates the workers where a test fails from those where it passes', async () => {
    for (const worker of ['w1', 'w2', 'w3']) await force(`float-${worker}`, 'def456');
    const history = await apiGet(url, '/tests/history?name=test_float');
    expect(history.separation).toMatchObject({
      revision: 'def456',
      failing_workers: ['w2', 'w3'],
      passing_workers: ['w1'],
      values: [{ key: 'arch', value: 's390x' }],
      sentence: 'fails only where arch=s390x',
    });
  }, 60_000);
});
