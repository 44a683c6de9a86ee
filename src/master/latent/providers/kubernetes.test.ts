/**
 * The kubernetes provider through the real client library against a small
 * local API server speaking the pod endpoints (fake-kubernetes-server.ts):
 * what the pod carries, how names are made safe, which pods list() adopts,
 * and how the API's errors read.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startFakeKubernetesServer, type FakeKubernetesServer } from './fake-kubernetes-server.js';
import {
  createKubernetesProvider,
  labelValue,
  podManifest,
  podName,
  POD_SCRIPT,
  type KubernetesSettings,
} from './kubernetes.js';
import { LatentProviderError, masterTag, workerBundleUrl, type InstanceSpec } from './provider.js';

const TAG = masterTag('m1');
// A token a shell would expand if it ever got near one.
const TOKEN = `$(touch /tmp/pwned) "'; tok-123`;

const spec = (name: string, pool = 'k8s'): InstanceSpec => ({
  pool,
  name,
  master: 'ws://10.0.0.5:8010',
  token: TOKEN,
  tag: TAG,
  dimensions: { os: 'linux', arch: 'x86_64' },
});

describe('kubernetes names', () => {
  it('keeps a name that is already a DNS label, and makes the others safe and distinct', () => {
    expect(podName('k8s-1')).toBe('shepherd-k8s-1');
    const hostile = ['Linux_1', 'linux.1', 'linux-1.', 'a'.repeat(200), `${'a'.repeat(200)}b`, 'x_'];
    const names = hostile.map(podName);
    for (const name of names) {
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name.startsWith('shepherd-')).toBe(true);
    }
    expect(new Set(names).size).toBe(names.length);
    expect(names[0]).toMatch(/^shepherd-linux-1-[0-9a-f]{8}$/);
    // Two names a careless mapping would merge.
    expect(podName('A.b')).not.toBe(podName('a_b'));
    expect(podName('Linux-1')).not.toBe(podName('linux-1'));
    expect(podName('linux.1')).toBe(names[1]); // stable: the same instance always gets the same pod
  });

  it('keeps label values valid', () => {
    expect(labelValue('k8s_pool.a')).toBe('k8s_pool.a');
    for (const value of ['pool.', '_pool', 'x'.repeat(64), 'weird id/with spaces']) {
      const label = labelValue(value);
      expect(label).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
      expect(label.length).toBeLessThanOrEqual(63);
    }
    expect(labelValue('x'.repeat(64))).not.toBe(labelValue('x'.repeat(65)));
  });

  it('fetches the bundle from the master\'s HTTP address', () => {
    expect(workerBundleUrl('ws://10.0.0.5:8010')).toBe('http://10.0.0.5:8010/worker/shepherd-worker.mjs');
    expect(workerBundleUrl('wss://farm.example.org/')).toBe('https://farm.example.org/worker/shepherd-worker.mjs');
    expect(workerBundleUrl('wss://farm.example.org/ci/worker')).toBe('https://farm.example.org/ci/worker/shepherd-worker.mjs');
  });
});

describe('the pod\'s script', () => {
  /** Runs the script as the container would, with the pod's environment and this PATH; returns what the "agent" saw. */
  async function runScript(path: string): Promise<{ status: number | null; stderr: string; dir: string; ran: unknown }> {
    // The master's bundle route, serving a stand-in agent that reports its arguments and secret.
    const agent = 'import { writeFileSync } from "node:fs"; writeFileSync("ran.json", JSON.stringify({ argv: process.argv.slice(2), secret: process.env.SHEPHERD_WORKER_SECRET, token: process.env.SHEPHERD_WORKER_TOKEN ?? null }));';
    const http = createServer((request, response) => {
      if (request.url === '/worker/shepherd-worker.mjs') response.end(agent);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = http.address() as AddressInfo;
      const pod = podManifest({ ...spec('k8s-1'), master: `ws://127.0.0.1:${port}` }, 'ci', 'node:20', { key: 'shepherd-master', value: 'm1' });
      const container = pod.spec!.containers[0]!;
      const dir = mkdtempSync(join(tmpdir(), 'shepherd-pod-'));
      const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value!]));
      // Not spawnSync: it would block the event loop the bundle server above answers on.
      const child = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        execFile(container.command![0]!, container.command!.slice(1), { cwd: dir, env: { ...env, PATH: path } }, (error, _stdout, stderr) => {
          resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stderr });
        });
      });
      let ran: unknown = null;
      try {
        ran = JSON.parse(readFileSync(join(dir, 'ran.json'), 'utf8'));
      } catch {
        // the agent never ran; the status and stderr say why
      }
      return { ...child, dir, ran };
    } finally {
      http.close();
    }
  }

  const expected = { argv: ['--config', 'worker.yml'], secret: TOKEN, token: null };

  it('fetches the bundle with curl, writes worker.yml and runs the agent with the secret', async () => {
    const { status, stderr, dir, ran } = await runScript(process.env.PATH!);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(ran).toEqual(expected);
    expect(parse(readFileSync(join(dir, 'worker.yml'), 'utf8'))).toMatchObject({ name: 'k8s-1', secret_env: 'SHEPHERD_WORKER_SECRET', dir: 'work' });
  });

  it('falls back to wget when the image has no curl', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'shepherd-bin-'));
    for (const tool of ['node', 'wget']) {
      const found = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (!found) throw new Error(`this test needs ${tool} on PATH`);
      symlinkSync(found, join(bin, tool));
    }
    const { status, stderr, ran } = await runScript(bin);
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(ran).toEqual(expected);
  });
});

describe('kubernetes provider', () => {
  let server: FakeKubernetesServer;
  const settings = (overrides: Partial<KubernetesSettings> = {}): KubernetesSettings => ({
    namespace: 'ci',
    image: 'node:20-slim',
    endpoint: server.url,
    ...overrides,
  });
  const provider = (overrides: Partial<KubernetesSettings> = {}, env: NodeJS.ProcessEnv = {}, tag = TAG) =>
    createKubernetesProvider({ settings: settings(overrides), tag, env });

  beforeEach(async () => {
    server = await startFakeKubernetesServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('creates one labelled pod that fetches the bundle, with the token only in its environment', async () => {
    expect(await provider().start(spec('k8s-1'))).toEqual({ id: 'shepherd-k8s-1' });

    const create = server.calls.find((call) => call.method === 'POST')!;
    expect(create.path).toBe('/api/v1/namespaces/ci/pods');
    const pod = server.pods.get('shepherd-k8s-1')!;
    expect(pod.metadata.namespace).toBe('ci');
    expect(pod.metadata.labels).toEqual({ 'shepherd-master': 'm1', 'shepherd-pool': 'k8s', 'shepherd-worker': 'k8s-1' });
    const podSpec = pod.spec as {
      restartPolicy: string;
      automountServiceAccountToken: boolean;
      containers: { image: string; command: string[]; env: { name: string; value: string }[]; workingDir: string }[];
    };
    expect(podSpec.restartPolicy).toBe('Never');
    expect(podSpec.automountServiceAccountToken).toBe(false);
    expect(podSpec.containers).toHaveLength(1);
    const [container] = podSpec.containers;
    expect(container!.image).toBe('node:20-slim');
    expect(container!.command).toEqual(['/bin/sh', '-c', POD_SCRIPT]);

    const env = Object.fromEntries(container!.env.map(({ name, value }) => [name, value]));
    expect(env.SHEPHERD_WORKER_SECRET).toBe(TOKEN);
    expect(env.SHEPHERD_BUNDLE_URL).toBe('http://10.0.0.5:8010/worker/shepherd-worker.mjs');
    expect(env).toMatchObject({ SHEPHERD_POOL: 'k8s', SHEPHERD_INSTANCE: 'k8s-1', SHEPHERD_MASTER: 'ws://10.0.0.5:8010', SHEPHERD_TAG: TAG });
    expect(parse(env.SHEPHERD_WORKER_CONFIG!)).toEqual({
      master: 'ws://10.0.0.5:8010',
      name: 'k8s-1',
      secret_env: 'SHEPHERD_WORKER_SECRET',
      dir: 'work',
      dimensions: { os: 'linux', arch: 'x86_64' },
    });
    // Each variable once, and the token in exactly one of them: not in the
    // command, the script, worker.yml, the labels or the annotations.
    expect(new Set(container!.env.map((e) => e.name)).size).toBe(container!.env.length);
    expect(container!.env.filter((e) => e.value.includes('tok-123')).map((e) => e.name)).toEqual(['SHEPHERD_WORKER_SECRET']);
    const { env: _env, ...rest } = container!;
    expect(JSON.stringify({ ...pod, spec: { ...pod.spec, containers: [rest] } })).not.toContain('tok-123');
    // The script fetches from the URL in its environment, curl first, then wget, then runs node.
    expect(POD_SCRIPT).toMatch(/curl [^\n]*"\$SHEPHERD_BUNDLE_URL"/);
    expect(POD_SCRIPT).toMatch(/wget [^\n]*"\$SHEPHERD_BUNDLE_URL"/);
    expect(POD_SCRIPT).toContain('exec node shepherd-worker.mjs --config worker.yml');
  });

  it('gives hostile and long names valid pod names and labels, and keeps the exact names for list', async () => {
    const p = provider();
    const long = `Build.Box_${'x'.repeat(150)}`;
    const pool = 'pool_with.dots.';
    const { id } = await p.start(spec(long, pool));
    expect(id).toBe(podName(long));
    expect(id.length).toBeLessThanOrEqual(63);
    const pod = server.pods.get(id)!;
    expect(pod.metadata.labels!['shepherd-pool']).toBe(labelValue(pool));
    expect(await p.list()).toEqual([{ id, name: long, pool, startedAt: expect.any(Number) }]);
  });

  it('lists only this master\'s live pods', async () => {
    const p = provider();
    await p.start(spec('k8s-1'));
    await p.start(spec('k8s-2'));
    await p.start(spec('k8s-3'));
    await p.start(spec('k8s-4'));
    await provider({}, {}, masterTag('m2')).start({ ...spec('other-1'), tag: masterTag('m2') });
    await provider({ namespace: 'elsewhere' }).start(spec('k8s-5'));
    server.setPhase('shepherd-k8s-2', 'Running');
    server.setPhase('shepherd-k8s-3', 'Succeeded');
    server.pods.get('shepherd-k8s-4')!.metadata.deletionTimestamp = new Date().toISOString();

    const listed = await p.list();
    expect(listed.map((i) => i.id)).toEqual(['shepherd-k8s-1', 'shepherd-k8s-2']);
    const created = Date.parse(server.pods.get('shepherd-k8s-1')!.metadata.creationTimestamp);
    expect(listed[0]).toEqual({ id: 'shepherd-k8s-1', name: 'k8s-1', pool: 'k8s', startedAt: created });
    expect(server.calls.at(-1)).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/ci/pods', query: { labelSelector: 'shepherd-master=m1' } });
  });

  it('maps pod phases to instance statuses', async () => {
    const p = provider();
    const { id } = await p.start(spec('k8s-1'));
    expect(await p.status(id)).toBe('running'); // Pending: scheduled or pulling its image
    for (const [phase, status] of [
      ['Running', 'running'],
      ['Succeeded', 'stopped'],
      ['Failed', 'stopped'],
      ['Unknown', 'unknown'],
    ] as const) {
      server.setPhase(id, phase);
      expect(await p.status(id)).toBe(status);
    }
    expect(await p.status('shepherd-never-started')).toBe('unknown');
    expect(await p.status('Not A Pod')).toBe('unknown');
  });

  it('deletes the pod on stop, and stopping a pod that is gone is fine', async () => {
    const p = provider();
    const { id } = await p.start(spec('k8s-1'));
    await p.stop(id);
    expect(server.pods.has(id)).toBe(false);
    expect(server.calls.at(-1)).toMatchObject({ method: 'DELETE', path: `/api/v1/namespaces/ci/pods/${id}` });
    expect(await p.status(id)).toBe('unknown');
    await p.stop(id);
    await p.stop('shepherd-never-started');
    await expect(p.stop('../etc')).rejects.toThrow('kubernetes provider: stop: "../etc" is not a pod name');
  });

  it('sends the bearer token from token_env, and a wrong one fails naming 401', async () => {
    await server.close();
    server = await startFakeKubernetesServer({ token: 'sa-token' });
    const good = provider({ token_env: 'K8S_TOKEN' }, { K8S_TOKEN: 'sa-token' });
    const { id } = await good.start(spec('k8s-1'));
    expect(await good.status(id)).toBe('running');

    const bad = provider({ token_env: 'K8S_TOKEN' }, { K8S_TOKEN: 'stale' });
    const error = await bad.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LatentProviderError);
    expect((error as Error).message).toBe('kubernetes provider: list: could not list pods in ci with shepherd-master=m1: HTTP 401 Unauthorized');
    await expect(bad.stop(id)).rejects.toThrow(/^kubernetes provider: stop: .*HTTP 401 Unauthorized/);
    await expect(provider().status(id)).rejects.toThrow(/HTTP 401/); // no token at all
    expect(() => provider({ token_env: 'K8S_TOKEN' }, {})).toThrow('kubernetes.token_env: environment variable K8S_TOKEN is not set');
  });

  it('refuses a second pod for a running instance, naming 409 AlreadyExists', async () => {
    const p = provider();
    await p.start(spec('k8s-1'));
    server.setPhase('shepherd-k8s-1', 'Running');
    const error = await p.start(spec('k8s-1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LatentProviderError);
    expect((error as Error).message).toBe(
      'kubernetes provider: start: could not create pod ci/shepherd-k8s-1: HTTP 409 AlreadyExists: pods "shepherd-k8s-1" already exists',
    );
    expect(server.pods.size).toBe(1);
  });

  it('replaces a finished pod of its own with the same name, but never another master\'s', async () => {
    const p = provider();
    await p.start(spec('k8s-1'));
    const first = server.pods.get('shepherd-k8s-1')!.metadata.uid;
    server.setPhase('shepherd-k8s-1', 'Failed');
    expect(await p.start(spec('k8s-1'))).toEqual({ id: 'shepherd-k8s-1' });
    expect(server.pods.get('shepherd-k8s-1')!.metadata.uid).not.toBe(first);
    expect(await p.status('shepherd-k8s-1')).toBe('running');

    const m2 = masterTag('m2');
    await provider({}, {}, m2).start({ ...spec('k8s-2'), tag: m2 });
    server.setPhase('shepherd-k8s-2', 'Succeeded');
    await expect(p.start(spec('k8s-2'))).rejects.toThrow(/HTTP 409 AlreadyExists/);
    expect(server.pods.get('shepherd-k8s-2')!.metadata.labels!['shepherd-master']).toBe('m2');
  });

  it('checks the spec before calling the API', async () => {
    await expect(provider().start({ ...spec('k8s-1'), tag: masterTag('m2') })).rejects.toThrow(/^kubernetes provider: start: spec\.tag/);
    await expect(provider().start({ ...spec('k8s-1'), master: 'http://x' })).rejects.toThrow(/spec\.master/);
    expect(server.calls).toEqual([]);
  });

  it('gives up on a stalled API server', async () => {
    const p = createKubernetesProvider({ settings: settings(), tag: TAG, env: {}, requestTimeoutMs: 200 });
    server.stalled = true;
    await expect(p.list()).rejects.toThrow('kubernetes provider: list: could not list pods in ci with shepherd-master=m1: no answer within 200 ms');
    server.stalled = false;
    expect(await p.list()).toEqual([]);
  });

  it('names a network failure', async () => {
    const p = provider();
    await server.close();
    await expect(p.status('shepherd-k8s-1')).rejects.toThrow(/^kubernetes provider: status: could not read pod ci\/shepherd-k8s-1: .*ECONNREFUSED/);
    server = await startFakeKubernetesServer(); // for afterEach
  });
});
