/**
 * `shepherd demo` (what `npm start` runs): a whole farm on one machine. It
 * writes a config for two workers and two builders of `examples/hello-c`,
 * starts the master in this process and the two worker agents as child
 * processes (the one-file bundle, as volunteers run it), forces one build of
 * each builder through the REST API and reports them as they finish. Ctrl-C
 * stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildJson, RequestJson, WorkerJson } from '../master/api/schemas.js';
import type { ErrorBody } from '../master/errors.js';
import { startMaster } from '../master/master.js';

/** Options of `shepherd demo`. */
export interface DemoOptions {
  /** Directory for the config, database, logs and worker directories (default `./demo-data`). */
  dir?: string;
  /** Port of the master (default 8010, or a free one when 8010 is taken; 0 picks a free one). */
  port?: number;
}

/** A worker of the demo farm. */
interface DemoWorker {
  name: string;
  secretEnv: string;
  maxBuilds: number;
}

/** A builder of the demo farm: hello-c configured with different flags. */
interface DemoBuilder {
  name: string;
  configFlags: string;
}

/** Environment variable holding the demo's API token (write calls need it). */
export const DEMO_TOKEN_ENV = 'SHEPHERD_DEMO_API_TOKEN';

const DEFAULT_PORT = 8010;
const HOST = '127.0.0.1';

/** The demo's workers; demo-1 can run two builds at once. */
export const DEMO_WORKERS: readonly DemoWorker[] = [
  { name: 'demo-1', secretEnv: 'SHEPHERD_DEMO_SECRET_1', maxBuilds: 2 },
  { name: 'demo-2', secretEnv: 'SHEPHERD_DEMO_SECRET_2', maxBuilds: 1 },
];

/** The demo's builders; `npm start` forces one build of each. */
export const DEMO_BUILDERS: readonly DemoBuilder[] = [
  { name: 'hello-debug', configFlags: '--with-pydebug' },
  { name: 'hello-release', configFlags: '--enable-optimizations' },
];

/** How often to look at the forced builds; a demo can afford polling. */
const POLL_MS = 300;
/** How long to wait for the workers to connect before forcing builds anyway. */
const CONNECT_WAIT_MS = 15_000;
/** When to tell the user a build still waits for a worker. */
const SLOW_START_MS = 30_000;
/** How long workers get to exit after SIGTERM before SIGKILL. */
const WORKER_STOP_MS = 10_000;

/** The repository root: the nearest directory above this module with a package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('shepherd demo: cannot find the repository (no package.json above the CLI)');
    dir = parent;
  }
  return dir;
}

/** Quotes a string for /bin/sh. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The demo farm's `shepherd.yml`. Pure, so a test can check it against the real parser. */
export function renderDemoConfig(options: { listen: string; exampleDir: string }): string {
  const q = (text: string) => JSON.stringify(text);
  const workers = DEMO_WORKERS.map(
    (w) => `  - name: ${w.name}
    secret_env: ${w.secretEnv}
    max_builds: ${w.maxBuilds}
    dimensions: { os: linux }`,
  ).join('\n');
  const builders = DEMO_BUILDERS.map(
    (b) => `  - name: ${b.name}
    workers: { os: linux }
    tags: [demo]
    properties:
      config_flags: ${q(b.configFlags)}
    steps:
      - name: checkout
        run: ${q(`rm -rf src && cp -R ${shellQuote(options.exampleDir)} src`)}
      - name: configure
        run: ${q('./configure ${{ props.config_flags }}')}
        workdir: src
      - name: compile
        run: make
        workdir: src
      - name: test
        run: make test
        workdir: src
        timeout: 1m
      - name: clean
        run: make clean
        workdir: src
        always_run: true`,
  ).join('\n');
  return `# shepherd.yml for the demo farm, written by \`shepherd demo\` on every run.
# Secrets are random per run and passed in the environment.
master:
  listen: ${q(options.listen)}
  database: sqlite:./shepherd.sqlite
  data_dir: ./data
  api_token_env: ${DEMO_TOKEN_ENV}
  worker_lost_after: 1m
workers:
${workers}
builders:
${builders}
`;
}

/** Whether HOST:port can be listened on right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen({ host: HOST, port, exclusive: true }, () => server.close(() => resolvePort(true)));
  });
}

/** A path as the user should type it: relative to the current directory when inside it. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  if (rel === '') return '.';
  return !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function secret(): string {
  return randomBytes(24).toString('base64url');
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** The master's REST API, as far as the demo uses it. */
class DemoApi {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        const { error } = JSON.parse(text) as ErrorBody;
        message = `${error.code}: ${error.message}`;
      } catch {
        // not the API's error shape: show the body as it is
      }
      throw new Error(`${method} ${path}: HTTP ${response.status}: ${message}`);
    }
    return JSON.parse(text) as T;
  }

  /** Queues a build of `builder`; returns the request. */
  async force(builder: string): Promise<RequestJson> {
    const path = `/api/v1/builders/${encodeURIComponent(builder)}/force`;
    return (await this.request<{ request: RequestJson }>('POST', path, { reason: 'demo' })).request;
  }

  /** The configured workers with their live state. */
  async workers(): Promise<WorkerJson[]> {
    return (await this.request<{ workers: WorkerJson[] }>('GET', '/api/v1/workers')).workers;
  }

  /** The builder's recent builds, newest first. */
  async builds(builder: string): Promise<BuildJson[]> {
    const path = `/api/v1/builds?builder=${encodeURIComponent(builder)}&limit=20`;
    return (await this.request<{ builds: BuildJson[] }>('GET', path)).builds;
  }
}

/** One forced build request, followed until it has a final (non-RETRY) result. */
interface Watched {
  builder: string;
  requestId: number;
  forcedAt: number;
  seen: Map<number, 'running' | 'finished'>;
  done: boolean;
  slowWarned: boolean;
  firstBuildId: number | null;
}

/** A worker agent child process and where its output goes. */
interface WorkerProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
}

/** Everything a run of the demo farm is made of, prepared before anything starts. */
interface Farm {
  root: string;
  dir: string;
  agent: string;
  configPath: string;
  tokenFile: string;
  token: string;
  workerSecrets: ReadonlyMap<string, string>;
}

/** Runs the demo farm until SIGINT or SIGTERM; resolves once everything has stopped. */
export async function runDemo(options: DemoOptions = {}): Promise<void> {
  const farm = await prepareFarm(options);
  const stop = new StopSignal();
  try {
    await runFarm(farm, stop);
  } finally {
    stop.dispose();
  }
}

/** Writes the config and the API token and picks the secrets. */
async function prepareFarm(options: DemoOptions): Promise<Farm> {
  const root = repoRoot();
  const dir = resolve(options.dir ?? 'demo-data');
  const agent = join(root, 'dist', 'shepherd-worker.mjs');
  if (!existsSync(agent)) throw new Error(`${agent} is missing: run \`npm run build\` first`);

  let port = options.port ?? DEFAULT_PORT;
  if (options.port === undefined && !(await portIsFree(port))) {
    console.log(`port ${port} is busy; using a free port instead`);
    port = 0;
  }

  mkdirSync(join(dir, 'logs'), { recursive: true });
  const configPath = join(dir, 'shepherd.yml');
  writeFileSync(configPath, renderDemoConfig({ listen: `${HOST}:${port}`, exampleDir: join(root, 'examples', 'hello-c') }));
  const token = secret();
  const tokenFile = join(dir, 'api-token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const workerSecrets = new Map(DEMO_WORKERS.map((w) => [w.name, secret()]));
  return { root, dir, agent, configPath, tokenFile, token, workerSecrets };
}

/**
 * SIGINT/SIGTERM, listened for from the start so that a Ctrl-C during
 * start-up still stops what has started. A second signal gives up waiting.
 */
class StopSignal {
  stopping = false;
  readonly stopped: Promise<NodeJS.Signals>;
  /** Called on a second signal, before exiting. */
  onForce: () => void = () => {};
  #resolve!: (signal: NodeJS.Signals) => void;

  constructor() {
    this.stopped = new Promise((resolveSignal) => (this.#resolve = resolveSignal));
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
  }

  #onSignal = (signal: NodeJS.Signals): void => {
    if (this.stopping) {
      console.error(`${signal} again: killing the workers and exiting`);
      this.onForce();
      process.exit(1);
    }
    this.stopping = true;
    this.#resolve(signal);
  };

  dispose(): void {
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }
}

/** Starts the master and the workers, forces the builds, and stops it all on a signal. */
async function runFarm(farm: Farm, stop: StopSignal): Promise<void> {
  const { dir } = farm;
  // The master gets every secret in its environment; each worker only its own.
  const masterEnv: NodeJS.ProcessEnv = { ...process.env, [DEMO_TOKEN_ENV]: farm.token };
  for (const w of DEMO_WORKERS) masterEnv[w.secretEnv] = farm.workerSecrets.get(w.name)!;
  const master = await startMaster({ configPath: farm.configPath, logLevel: 'warn', env: masterEnv });
  const url = master.url.replace(/\/$/, '');
  const api = new DemoApi(url, farm.token);
  const logs = join(dir, 'logs');

  console.log(`Shepherd demo farm
  master   ${url}   (REST API under /api/v1, OpenAPI at /api/v1/openapi.json)
  config   ${displayPath(farm.configPath)}
  workers  ${DEMO_WORKERS.map((w) => `${w.name} (max_builds ${w.maxBuilds})`).join(', ')}; their output goes to ${displayPath(logs)}/
Press Ctrl-C to stop.
`);

  const workers = DEMO_WORKERS.map((w) =>
    startWorker({
      agent: farm.agent,
      name: w.name,
      masterUrl: master.workerUrl,
      secretEnv: w.secretEnv,
      secret: farm.workerSecrets.get(w.name)!,
      dir: join(dir, 'workers', w.name),
      logFile: join(logs, `${w.name}.log`),
      onUnexpectedExit: (how) => {
        if (stop.stopping) return;
        console.error(`worker ${w.name} stopped unexpectedly (${how}); the end of its log:`);
        console.error(tail(join(logs, `${w.name}.log`), 10));
      },
    }),
  );
  stop.onForce = () => workers.forEach((w) => w.child.kill('SIGKILL'));
  // Forcing before both are connected would queue every build on the first one to arrive.
  await waitForWorkers(api, logs, () => stop.stopping);

  const watched: Watched[] = [];
  try {
    for (const builder of DEMO_BUILDERS) {
      if (stop.stopping) break;
      const request = await api.force(builder.name);
      console.log(`forced ${builder.name} (request ${request.id}): ./configure ${builder.configFlags} && make && make test`);
      watched.push({
        builder: builder.name,
        requestId: request.id,
        forcedAt: Date.now(),
        seen: new Map(),
        done: false,
        slowWarned: false,
        firstBuildId: null,
      });
    }
  } catch (error) {
    console.error(`could not force the demo builds: ${(error as Error).message}`);
  }

  const watching = watchBuilds(api, watched, logs, () => stop.stopping).then((allDone) => {
    if (allDone && !stop.stopping) printNextSteps(farm, url, watched);
  });

  const signal = await stop.stopped;
  console.log(`\n${signal}: stopping the workers and the master...`);
  await Promise.all(workers.map((w) => stopWorker(w)));
  await master.close();
  await watching;
  console.log('stopped.');
}

/** What to try once the demo builds are done. */
function printNextSteps(farm: Farm, url: string, watched: readonly Watched[]): void {
  const build = watched.find((w) => w.firstBuildId !== null)?.firstBuildId ?? 1;
  const m = `--master ${url}`;
  console.log(`
All demo builds finished. Try, from another terminal in ${displayPath(farm.root) === '.' ? 'this directory' : farm.root}:
  npx shepherd builds ${m}
  npx shepherd log ${build} ${m}
  npx shepherd workers ${m}
  SHEPHERD_API_TOKEN=$(cat ${shellQuote(displayPath(farm.tokenFile))}) npx shepherd force hello-release --wait ${m}
  curl ${url}/api/v1/builds/${build}
Press Ctrl-C to stop.`);
}

/** Starts one worker agent; its output goes to its log file. */
function startWorker(options: {
  agent: string;
  name: string;
  masterUrl: string;
  secretEnv: string;
  secret: string;
  dir: string;
  logFile: string;
  onUnexpectedExit: (how: string) => void;
}): WorkerProcess {
  mkdirSync(options.dir, { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(
    process.execPath,
    [options.agent, '--master', options.masterUrl, '--name', options.name, '--secret-env', options.secretEnv, '--dir', options.dir],
    { env: { ...process.env, [options.secretEnv]: options.secret }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<void>((resolveExit) => {
    child.once('error', (error) => {
      options.onUnexpectedExit(`could not start: ${error.message}`);
      resolveExit();
    });
    child.once('exit', (code, signal) => {
      // A terminal's Ctrl-C reaches the agents too; that is not a failure.
      const interrupted = signal === 'SIGINT' || signal === 'SIGTERM' || code === 130 || code === 143;
      if (!interrupted && code !== 0) {
        options.onUnexpectedExit(signal ? `killed by ${signal}` : `exit status ${code}`);
      }
      resolveExit();
    });
  }).then(() => new Promise<void>((resolveLog) => log.end(resolveLog)));
  return { name: options.name, child, logFile: options.logFile, exited };
}

/** SIGTERM, then SIGKILL if the agent is still there after a grace period. */
async function stopWorker(worker: WorkerProcess): Promise<void> {
  const { child } = worker;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_STOP_MS);
    await worker.exited;
    clearTimeout(timer);
  } else {
    await worker.exited;
  }
}

/** Waits until every demo worker is connected, or says which are not after a while. */
async function waitForWorkers(api: DemoApi, logs: string, stopping: () => boolean): Promise<void> {
  const deadline = Date.now() + CONNECT_WAIT_MS;
  for (;;) {
    const workers = await api.workers().catch(() => [] as WorkerJson[]);
    const missing = DEMO_WORKERS.filter((w) => !workers.some((seen) => seen.name === w.name && seen.connected)).map((w) => w.name);
    if (missing.length === 0) {
      console.log(`workers connected: ${DEMO_WORKERS.map((w) => w.name).join(', ')}`);
      return;
    }
    if (stopping()) return;
    if (Date.now() > deadline) {
      console.log(`not connected yet: ${missing.join(', ')} (see ${displayPath(logs)}/); forcing the builds anyway`);
      return;
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, POLL_MS));
  }
}

/**
 * Follows the forced requests until each has a final result (a build that
 * ends RETRY is queued again, so its request is followed further). Resolves
 * true when all finished, false when the demo is stopping first.
 */
async function watchBuilds(api: DemoApi, watched: Watched[], logs: string, stopping: () => boolean): Promise<boolean> {
  while (watched.some((w) => !w.done)) {
    if (stopping()) return false;
    for (const w of watched.filter((item) => !item.done)) {
      let builds: BuildJson[];
      try {
        builds = await api.builds(w.builder);
      } catch (error) {
        if (stopping()) return false;
        console.error(`could not read the builds of ${w.builder}: ${(error as Error).message}`);
        w.done = true;
        continue;
      }
      const mine = builds.filter((b) => b.request_id === w.requestId).sort((a, b) => a.id - b.id);
      for (const build of mine) {
        const label = `${build.builder} #${build.number}`;
        const before = w.seen.get(build.id);
        w.firstBuildId ??= build.id;
        if (before === undefined && build.state === 'running') {
          console.log(`${label} started on ${build.worker} (build ${build.id})`);
        }
        if (before !== 'finished' && build.state === 'finished') {
          const took = build.finished_at !== null ? ` in ${formatSeconds(build.finished_at - build.started_at)}` : '';
          const why = build.summary && build.result !== 'SUCCESS' ? ` (${build.summary})` : '';
          console.log(`${label} finished: ${build.result}${took} on ${build.worker}${why}`);
          if (build.result !== 'RETRY') w.done = true;
        }
        w.seen.set(build.id, build.state);
      }
      if (mine.length === 0 && !w.slowWarned && Date.now() - w.forcedAt > SLOW_START_MS) {
        w.slowWarned = true;
        console.log(`${w.builder}: still waiting for a worker; see the worker logs in ${displayPath(logs)}/`);
      }
    }
    if (watched.some((w) => !w.done)) await new Promise((resolveWait) => setTimeout(resolveWait, POLL_MS));
  }
  return true;
}

/** The last `lines` lines of a file, indented, for error reports. */
function tail(file: string, lines: number): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text
      .split('\n')
      .slice(-lines)
      .map((line) => `  ${line}`)
      .join('\n');
  } catch {
    return '  (no output)';
  }
}
