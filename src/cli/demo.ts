/**
 * `shepherd demo` (what `npm start` runs): a whole farm on one machine. It
 * keeps a git repository of `examples/hello-c` (a bare one the master polls,
 * and a clone to commit in), writes a config for two workers, two builders
 * of it and the schedulers that build every pushed commit, forced builds and
 * try patches, starts the master in this process and the two worker agents
 * as child processes (the one-file bundle, as volunteers run it), forces one
 * build of each builder through the REST API and reports every build as it
 * starts and finishes. Ctrl-C stops everything.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BuildJson, RequestJson, WorkerJson } from '../master/api/schemas.js';
import type { ErrorBody } from '../master/errors.js';
import { startMaster } from '../master/master.js';
import { DEMO_BRANCH, DEMO_SOURCE, ensureDemoRepository, type DemoRepository } from './demo-repository.js';

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

/** How often the master polls the demo repository (a config duration). */
const DEMO_POLL = '5s';

/** How often to look at the builds while the forced ones run; a demo can afford polling. */
const POLL_MS = 300;
/** How often to look for new builds (of pushed commits, try patches) once the forced ones are done. */
const FOLLOW_MS = 1_000;
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

/** A string as one /bin/sh word: as it is when that is safe, else single-quoted. */
function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_./@%+=:,-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The demo farm's `shepherd.yml`. Pure, so a test can check it against the real parser. */
export function renderDemoConfig(options: { listen: string; repository: string }): string {
  const q = (text: string) => JSON.stringify(text);
  const all = `[${DEMO_BUILDERS.map((b) => b.name).join(', ')}]`;
  const workers = DEMO_WORKERS.map(
    (w) => `  - name: ${w.name}
    secret_env: ${w.secretEnv}
    max_builds: ${w.maxBuilds}
    dimensions: { os: linux }
    admins: ["Shepherd Demo <demo@example.org>"]`,
  ).join('\n');
  const builders = DEMO_BUILDERS.map(
    (b) => `  - name: ${b.name}
    workers: { os: linux }
    tags: [demo]
    properties:
      config_flags: ${q(b.configFlags)}
      verbose: "false"   # the force scheduler's parameter; other builds take this
    steps:
      - name: checkout
        checkout: { source: ${DEMO_SOURCE}, mode: incremental }
        workdir: src
      - name: configure
        run: ${q('./configure ${{ props.config_flags }} && if [ "$VERBOSE" = true ]; then cat config.mk; fi')}
        env: { VERBOSE: ${q('${{ props.verbose }}')} }
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
# The repository the demo made from examples/hello-c; commit in its clone and push.
changes:
  - name: ${DEMO_SOURCE}
    git: ${q(options.repository)}
    branches: [${DEMO_BRANCH}]
    poll: ${DEMO_POLL}
schedulers:
  - name: on-commit   # every pushed commit, on both builders
    on_change: { changes: ${DEMO_SOURCE}, ignore: ["*.md"] }
    builders: ${all}
  - name: force       # shepherd force BUILDER --scheduler force --param verbose=true
    force:
      params:
        verbose: { type: boolean, default: false, description: "print config.mk after ./configure" }
    builders: ${all}
  - name: try         # shepherd try --builder BUILDER, in the clone
    try: { changes: ${DEMO_SOURCE} }
    builders: ${all}
builders:
${builders}
# Platforms and the live workers each wants: see the web UI's Coverage page.
platforms:
  - name: linux
    select: { os: linux }
    tier: 1
    redundancy: 2
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

  /** The farm's most recent builds, of every builder, newest first. */
  async recentBuilds(): Promise<BuildJson[]> {
    return (await this.request<{ builds: BuildJson[] }>('GET', '/api/v1/builds?limit=50')).builds;
  }

  /** Polls a change source now; resolves once the poll (or the one running) is done. */
  async pollSource(name: string): Promise<void> {
    await this.request('POST', `/api/v1/sources/${encodeURIComponent(name)}/poll`);
  }
}

/** One forced build request, followed until it has a final (non-RETRY) result. */
interface Watched {
  builder: string;
  requestId: number;
  forcedAt: number;
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
  repository: DemoRepository;
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

/**
 * Builds the web UI when only the server was compiled (someone ran tsc, not
 * `npm run build`), so the demo's master serves it at `/`. Outside a source
 * checkout (no web/ sources) there is nothing to build: the master's `/`
 * then says how. A failed build is reported and the farm runs without the UI.
 */
async function ensureWebUi(root: string): Promise<void> {
  const config = join('web', 'vite.config.ts');
  if (existsSync(join(root, 'dist', 'web', 'index.html')) || !existsSync(join(root, config))) return;
  console.log('the web UI is not built (no dist/web/index.html): building it with vite first...');
  try {
    await promisify(execFile)('npx', ['vite', 'build', '--config', config], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    console.error(`could not build the web UI (${(stderr || message).trim().split('\n').slice(-5).join(' / ')}); ` +
      'the farm runs without it: run `npm run build` for the UI');
  }
}

/** Makes the repository (first run only), writes the config and the API token, and picks the secrets. */
async function prepareFarm(options: DemoOptions): Promise<Farm> {
  const root = repoRoot();
  const dir = resolve(options.dir ?? 'demo-data');
  const agent = join(root, 'dist', 'shepherd-worker.mjs');
  if (!existsSync(agent)) throw new Error(`${agent} is missing: run \`npm run build\` first`);
  await ensureWebUi(root);

  let port = options.port ?? DEFAULT_PORT;
  if (options.port === undefined && !(await portIsFree(port))) {
    console.log(`port ${port} is busy; using a free port instead`);
    port = 0;
  }

  mkdirSync(join(dir, 'logs'), { recursive: true });
  const repository = await ensureDemoRepository({ dir, exampleDir: join(root, 'examples', 'hello-c') });
  const configPath = join(dir, 'shepherd.yml');
  writeFileSync(configPath, renderDemoConfig({ listen: `${HOST}:${port}`, repository: repository.bare }));
  const token = secret();
  const tokenFile = join(dir, 'api-token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const workerSecrets = new Map(DEMO_WORKERS.map((w) => [w.name, secret()]));
  return { root, dir, agent, configPath, tokenFile, token, workerSecrets, repository };
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

  const { bare, clone, created } = farm.repository;
  console.log(`Shepherd demo farm
  web UI   ${url}/   (open it in a browser)
  master   ${url}   (REST API under /api/v1, OpenAPI at /api/v1/openapi.json)
  config   ${displayPath(farm.configPath)}
  workers  ${DEMO_WORKERS.map((w) => `${w.name} (max_builds ${w.maxBuilds})`).join(', ')}; their output goes to ${displayPath(logs)}/
  repo     ${displayPath(bare)} (${created ? 'made from examples/hello-c' : 'kept from an earlier run'}), polled every ${DEMO_POLL}; commit and push in its clone ${displayPath(clone)}
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

  // The master polls at start; waiting for that poll means main's head is
  // recorded, so every commit pushed from now on is a change to build.
  await api.pollSource(DEMO_SOURCE).catch((error: Error) => console.error(`could not poll ${DEMO_SOURCE}: ${error.message}`));
  // Builds of earlier runs (the database is kept) are history, not news.
  const earlier = await api.recentBuilds().catch(() => [] as BuildJson[]);

  const watched: Watched[] = [];
  try {
    for (const builder of DEMO_BUILDERS) {
      if (stop.stopping) break;
      const request = await api.force(builder.name);
      console.log(`forced ${builder.name} (request ${request.id}): checkout of ${DEMO_BRANCH}, ./configure ${builder.configFlags} && make && make test`);
      watched.push({ builder: builder.name, requestId: request.id, forcedAt: Date.now(), done: false, slowWarned: false, firstBuildId: null });
    }
  } catch (error) {
    console.error(`could not force the demo builds: ${(error as Error).message}`);
  }

  const watching = followBuilds({
    api,
    watched,
    earlier,
    logs,
    stopping: () => stop.stopping,
    onForcedDone: () => printNextSteps(farm, url, watched),
  });

  const signal = await stop.stopped;
  console.log(`\n${signal}: stopping the workers and the master...`);
  await Promise.all(workers.map((w) => stopWorker(w)));
  await master.close();
  await watching;
  console.log('stopped.');
}

/** Whether `path` is `dir` or inside it. */
function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** What to try once the demo builds are done: the CLI, a commit, a try patch, a forced build with a parameter. */
function printNextSteps(farm: Farm, url: string, watched: readonly Watched[]): void {
  const build = watched.find((w) => w.firstBuildId !== null)?.firstBuildId ?? 1;
  const m = `--master ${url}`;
  // `npx shepherd` finds this package's command inside the repository only.
  const here = isInside(farm.root, process.cwd()) ? process.cwd() : farm.root;
  const show = (path: string) => shellQuote(isInside(here, path) ? relative(here, path) || '.' : path);
  // Works from this directory and from the clone, wherever --dir put it.
  const cli = isInside(farm.root, farm.repository.clone) ? 'npx shepherd' : `npx --prefix ${shellQuote(farm.root)} shepherd`;
  const clone = show(farm.repository.clone);
  const builders = DEMO_BUILDERS.map((b) => b.name);
  console.log(`
All demo builds finished. Try, from another terminal in ${here === process.cwd() ? 'this directory' : here}:
  npx shepherd builds ${m}
  npx shepherd log ${build} ${m}
  npx shepherd workers ${m}
  npx shepherd schedulers ${m}
  curl ${url}/api/v1/builds/${build}

Every commit pushed to ${show(farm.repository.bare)} is built on both builders (the master looks
every ${DEMO_POLL}; commits touching only *.md files are not built). Commit in the clone and push, then watch
here or with changes:
  (cd ${clone} && echo '/* a change */' >> hello.c && git commit -am "Change hello.c" && git push)
  npx shepherd changes ${m}

Build an edit before committing it (a try build; it needs the API token):
  export SHEPHERD_API_TOKEN=$(cat ${show(farm.tokenFile)})
  cd ${clone} && echo '/* an idea */' >> hello.h
  ${cli} try --builder ${builders[0]} --wait ${m}

Force a build through the force scheduler, with its parameter (with the token exported as above):
  ${cli} force ${builders[1]} --scheduler force --param verbose=true --wait ${m}
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
 * Prints every new build of the farm as it starts and finishes (the forced
 * ones, then those of pushed commits, try patches and forced builds from the
 * CLI) until the demo stops. Calls `onForcedDone` once every forced request
 * has a final result: a build that ends RETRY is queued again, so its
 * request is followed further.
 */
async function followBuilds(options: {
  api: DemoApi;
  watched: Watched[];
  /** Builds that were there before: only their changes of state are news. */
  earlier: readonly BuildJson[];
  logs: string;
  stopping: () => boolean;
  onForcedDone: () => void;
}): Promise<void> {
  const { api, watched, logs, stopping } = options;
  const seen = new Map(options.earlier.map((b) => [b.id, b.state]));
  let forcedDone = false;
  let lastError = '';
  while (!stopping()) {
    let builds: BuildJson[] = [];
    try {
      builds = await api.recentBuilds();
      lastError = '';
    } catch (error) {
      if (stopping()) return;
      const message = (error as Error).message;
      if (message !== lastError) console.error(`could not read the builds: ${message}`);
      lastError = message;
    }
    for (const build of [...builds].sort((a, b) => a.id - b.id)) {
      const before = seen.get(build.id);
      if (before === build.state) continue;
      seen.set(build.id, build.state);
      const w = watched.find((item) => item.requestId === build.request_id);
      if (w) w.firstBuildId ??= build.id;
      const label = `${build.builder} #${build.number}`;
      if (before === undefined && build.state === 'running') {
        const scheduler = build.properties.scheduler ? `, scheduler ${build.properties.scheduler}` : '';
        const revision = build.revision ? `, revision ${build.revision.slice(0, 10)}` : '';
        console.log(`${label} started on ${build.worker} (build ${build.id}${scheduler}${revision})`);
      }
      if (build.state === 'finished') {
        const took = build.finished_at !== null ? ` in ${formatSeconds(build.finished_at - build.started_at)}` : '';
        const at = build.revision ? ` at ${build.revision.slice(0, 10)}` : '';
        // Which scheduler queued it (on-commit, try, force) and, when it did not succeed, why.
        const notes = [build.properties.scheduler, build.result !== 'SUCCESS' ? build.summary : null].filter(Boolean);
        const why = notes.length > 0 ? ` (${notes.join('; ')})` : '';
        console.log(`${label} finished: ${build.result}${took} on ${build.worker}${at}${why}`);
        if (w && build.result !== 'RETRY') w.done = true;
      }
    }
    for (const w of watched) {
      if (!w.done && w.firstBuildId === null && !w.slowWarned && Date.now() - w.forcedAt > SLOW_START_MS) {
        w.slowWarned = true;
        console.log(`${w.builder}: still waiting for a worker; see the worker logs in ${displayPath(logs)}/`);
      }
    }
    if (!forcedDone && !stopping() && watched.every((w) => w.done)) {
      forcedDone = true;
      options.onForcedDone();
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, forcedDone ? FOLLOW_MS : POLL_MS));
  }
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
