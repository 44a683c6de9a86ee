/**
 * The worker agent: keeps one WebSocket to the master alive and runs the
 * steps it is sent.
 *
 * A connection goes: open → `hello` (with every held step) → `welcome` or
 * `refused`. After `welcome` the agent heartbeats and takes `start_step`,
 * `ack`, `release` and `cancel`. When the connection drops, steps keep
 * running and their output keeps being spooled (see `held-steps.ts`); the
 * agent reconnects with jittered exponential backoff, slowly after a refusal.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WebSocket, type RawData } from 'ws';
import {
  decodeMasterMessage,
  isDebugMasterMessage,
  encodeControl,
  Hello,
  MAX_MASTER_FRAME_BYTES,
  PROTOCOL_VERSION,
  type HeldStep,
  type MasterMessage,
  type Welcome,
} from '../protocol/index.js';
import { nextDelay } from './backoff.js';
import { systemClock, type TimerHandle } from './clock.js';
import { formatDuration } from './format-duration.js';
import { DebugSessions } from './debug/debug-sessions.js';
import { HeldSteps } from './held-steps.js';
import { KEEP_DEFAULTS, KeptTrees } from './kept-trees.js';
import { detectWorkerInfo } from './info.js';
import { stderrLogger, type Logger } from './logger.js';
import { WebSocketLink } from './master-link.js';
import { workerEndpoint } from './master-url.js';
import { AGENT_DEFAULTS, type AgentOptions } from './options.js';
import { killLeftoverGroups, RunningGroups } from './running-groups.js';
import { Spool } from './spool.js';
import { STATE_DIR_NAME } from './step-cwd.js';
import { STEPS_DIR_NAME } from './step-dir.js';

/** A running agent. */
export interface WorkerAgent {
  /** Closes the connection, kills running steps and forgets them; resolves when they are gone. */
  stop(): Promise<void>;
  /** Resolves at the next `welcome` from the master (rejects if the agent stops first). */
  connected(): Promise<void>;
}

/** One WebSocket and what the agent knows about it. */
interface Connection {
  ws: WebSocket;
  welcomed: boolean;
  refused: { code: string; message: string } | null;
  link: WebSocketLink | null;
  heartbeat: TimerHandle | null;
  lastHeardAt: number;
  error: string | null;
}

// A master that does not answer the upgrade within this long is as good as down.
const HANDSHAKE_TIMEOUT_MS = 15_000;
// How long stop() lets the close handshake take before cutting the socket.
const CLOSE_TIMEOUT_MS = 2000;
// A connection silent for this many heartbeat intervals is dead (the master uses the same rule).
const SILENT_INTERVALS = 3;
// `hello.held` may list at most this many steps (see the protocol's Hello schema).
const MAX_HELD = 1000;

/**
 * Starts the agent: kills process groups an earlier agent left behind in
 * `dir`, then connects to the master and keeps reconnecting until `stop()`.
 * Throws only for an unusable `master` address, `dir`, name or secret.
 */
export function startWorkerAgent(options: AgentOptions & { logger?: Logger }): WorkerAgent {
  const log = options.logger ?? stderrLogger;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const backoff = options.backoff ?? AGENT_DEFAULTS.backoff;
  const refusedBackoff = options.refusedBackoff ?? AGENT_DEFAULTS.refusedBackoff;
  const endpoint = workerEndpoint(options.master);
  const dir = resolve(options.dir);
  const info = detectWorkerInfo({ admin: options.admin, dimensions: options.dimensions, maintenance: options.maintenance });
  log(`shepherd worker agent ${info.agent_version} starting as ${options.name} in ${dir}; master ${endpoint}`);

  // A one-time token (an on-demand instance's) is spent at the first welcome, which gives the secret for later connections.
  let secret = options.secret;
  const helloWith = (held: HeldStep[]): Hello => ({ type: 'hello', protocol: PROTOCOL_VERSION, name: options.name, secret, info, held });
  // A name or secret the protocol cannot carry would be refused on every
  // attempt forever; better to fail now, loudly.
  const checked = Hello.safeParse(helloWith([]));
  if (!checked.success) {
    throw new Error(`cannot introduce this worker to the master: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }

  const stateDir = join(dir, STATE_DIR_NAME);
  mkdirSync(stateDir, { recursive: true });
  const runningFile = join(stateDir, 'running.jsonl');
  killLeftoverGroups(runningFile, log);
  const groups = new RunningGroups(runningFile);
  groups.reset();
  const spool = new Spool({ dir: join(stateDir, 'spool'), memoryLimitBytes: options.spoolMemoryBytes ?? AGENT_DEFAULTS.spoolMemoryBytes });
  // Whatever an earlier agent spooled belongs to steps that are lost.
  spool.reset();
  // So do the directories of its steps.
  const stepsDir = join(stateDir, STEPS_DIR_NAME);
  rmSync(stepsDir, { recursive: true, force: true });
  const steps = new HeldSteps({
    dir,
    stepsDir,
    clock,
    killGraceMs: options.killGraceMs ?? AGENT_DEFAULTS.killGraceMs,
    env: withoutSecret(options.env ?? process.env, options.secret),
    spool,
    groups,
    log,
  });

  let current: Connection | null = null;
  // Failed builds' trees kept for debug sessions, within the admin's `keep` policy; see kept-trees.ts.
  const kept = new KeptTrees({ dir, stateDir, policy: options.keep ?? KEEP_DEFAULTS, worker: options.name, log });
  // Debug sessions (shepherd debug): the worker's own policy decides; see debug/debug-sessions.ts.
  const debug = new DebugSessions({
    worker: options.name,
    secret: options.secret,
    dir,
    policy: options.debug,
    env: withoutSecret(options.env ?? process.env, options.secret),
    clock,
    log,
    link: () => current?.link ?? null,
    keptTree: (buildId) => kept.treeOf(buildId),
  });
  let reconnectTimer: TimerHandle | null = null;
  let attempt = 0;
  let refusedAttempt = 0;
  let stopping: Promise<void> | null = null;
  let welcomeWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  function connect(): void {
    reconnectTimer = null;
    if (stopping) return;
    const ws = new WebSocket(endpoint, {
      perMessageDeflate: false,
      // A start_step may carry a try patch: far bigger than anything the agent sends.
      maxPayload: MAX_MASTER_FRAME_BYTES,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      // RFC 6455 masks client frames so that hostile scripts in browsers cannot
      // steer what proxies see on the wire. The agent is not a browser and runs
      // no third-party script on this connection, so a zero mask is safe, and it
      // lets ws skip the XOR over every output byte on both ends (about a third
      // of the master's CPU on a 65 MB log).
      generateMask: zeroMask,
    });
    const connection: Connection = {
      ws,
      welcomed: false,
      refused: null,
      link: null,
      heartbeat: null,
      lastHeardAt: clock.now(),
      error: null,
    };
    current = connection;
    ws.on('open', function onOpen() {
      let held = steps.held();
      if (held.length > MAX_HELD) {
        // Over the protocol's limit the hello would be refused outright; the
        // steps left out are killed when the welcome does not resume them.
        log(`holding ${held.length} steps, more than a hello may list; offering the first ${MAX_HELD}`);
        held = held.slice(0, MAX_HELD);
      }
      ws.send(encodeControl(helloWith(held)));
    });
    ws.on('message', function onMessage(data, isBinary) {
      // Once we are closing, a late start_step must not start anything: the
      // master learns of the close and deals with its steps itself.
      if (ws.readyState !== WebSocket.OPEN) return;
      connection.lastHeardAt = clock.now();
      if (isBinary) return protocolError(connection, 'the master sent a binary frame');
      let message: MasterMessage;
      try {
        message = decodeMasterMessage(rawText(data));
      } catch (error) {
        return protocolError(connection, (error as Error).message);
      }
      handle(connection, message);
    });
    ws.on('pong', () => {
      connection.lastHeardAt = clock.now();
    });
    ws.on('error', (error) => {
      connection.error = error.message;
    });
    ws.on('close', (code, reason) => onClose(connection, code, reason.toString('utf8')));
  }

  function protocolError(connection: Connection, what: string): void {
    log(`protocol error: ${what}; closing the connection`);
    connection.ws.close(1002, 'protocol error');
  }

  function handle(connection: Connection, message: MasterMessage): void {
    switch (message.type) {
      case 'welcome':
        if (connection.welcomed) return protocolError(connection, 'a second welcome');
        return onWelcome(connection, message);
      case 'refused':
        connection.refused = { code: message.code, message: message.message };
        connection.ws.close(1000);
        return;
      case 'heartbeat':
        return;
      default:
        if (!connection.welcomed) return protocolError(connection, `${message.type} before welcome`);
    }
    if (isDebugMasterMessage(message)) return debug.handle(message);
    switch (message.type) {
      case 'start_step':
        return steps.start(message);
      case 'ack':
        return steps.ack(message.step_id, message.seq);
      case 'release':
        return steps.release(message.step_id);
      case 'cancel':
        return steps.cancel(message.step_id, message.reason);
      case 'keep_workdir':
        return keepWorkdir(message.build_id, message.builder_dir);
    }
  }

  /** Moves a failed build's tree aside (before the next message is read), then tells the master what came of it. */
  function keepWorkdir(buildId: number, builderDir: string): void {
    void kept.keep(buildId, builderDir).then((outcome) => {
      const link = current?.link;
      if (link) link.sendControl({ type: 'workdir_kept', build_id: buildId, path: outcome.path, reason: outcome.reason });
      else log(`build ${buildId}: cannot tell the master about its kept tree: not connected`);
    });
  }

  function onWelcome(connection: Connection, welcome: Welcome): void {
    connection.welcomed = true;
    attempt = 0;
    refusedAttempt = 0;
    if (welcome.protocol !== PROTOCOL_VERSION) log(`the master speaks protocol ${welcome.protocol}, this agent ${PROTOCOL_VERSION}`);
    if (welcome.session_secret) secret = welcome.session_secret;
    const held = steps.size;
    connection.link = new WebSocketLink(connection.ws, log);
    const { resumed, dropped } = steps.attach(connection.link, welcome.resume);
    log(
      `connected to ${endpoint} as ${options.name}` +
        (held ? `; resuming ${resumed} held step(s)${dropped ? `, dropped ${dropped} the master no longer wants` : ''}` : ''),
    );
    const interval = welcome.heartbeat_ms;
    const beat = () => {
      if (connection.ws.readyState !== WebSocket.OPEN) return;
      const silent = clock.now() - connection.lastHeardAt;
      if (silent > SILENT_INTERVALS * interval) {
        log(`no word from the master for ${formatDuration(silent)}; dropping the connection`);
        connection.ws.terminate();
        return;
      }
      connection.link?.sendControl({ type: 'heartbeat', t: clock.now() });
      // The pong proves the master's side of the socket is alive even when it has nothing to say.
      connection.ws.ping();
      connection.heartbeat = clock.setTimeout(beat, interval);
    };
    connection.heartbeat = clock.setTimeout(beat, interval);
    const waiters = welcomeWaiters;
    welcomeWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  function onClose(connection: Connection, code: number, reason: string): void {
    connection.heartbeat?.cancel();
    if (connection.link) {
      debug.endAll('the connection to the master was lost');
      steps.detach();
      connection.link.close();
    }
    if (current === connection) current = null;
    if (stopping) return;
    let delay: number;
    if (connection.refused) {
      delay = nextDelay(refusedAttempt++, random, refusedBackoff);
      const { code: refusal, message } = connection.refused;
      const hint = /AUTH/i.test(refusal) ? ` (check that the name "${options.name}" and the secret match the master's workers list)` : '';
      log(`the master refused this worker: ${refusal}: ${message}${hint}; retrying in ${formatDuration(delay)}`);
    } else if (connection.welcomed) {
      attempt = 0;
      delay = nextDelay(attempt++, random, backoff);
      const running = steps.running;
      log(
        `connection to the master lost (${code}${reason ? ` ${reason}` : ''})` +
          `${running ? `; ${running} step(s) keep running` : ''}; reconnecting in ${formatDuration(delay)}`,
      );
    } else {
      delay = nextDelay(attempt++, random, backoff);
      log(`cannot connect to ${endpoint}: ${connection.error ?? `closed with code ${code}${reason ? ` ${reason}` : ''}`}; retrying in ${formatDuration(delay)}`);
    }
    reconnectTimer = clock.setTimeout(connect, delay);
  }

  async function stop(): Promise<void> {
    reconnectTimer?.cancel();
    reconnectTimer = null;
    const waiters = welcomeWaiters;
    welcomeWaiters = [];
    for (const waiter of waiters) waiter.reject(new Error('the worker agent stopped'));
    const connection = current;
    if (connection) {
      const closed = new Promise<void>((resolve) => connection.ws.once('close', () => resolve()));
      connection.ws.close(1001, 'worker agent stopping');
      const timer = clock.setTimeout(() => connection.ws.terminate(), CLOSE_TIMEOUT_MS);
      await closed;
      timer.cancel();
    }
    debug.endAll('the worker agent is stopping');
    const running = steps.running;
    await steps.stopAll();
    spool.reset();
    groups.close();
    log(`stopped${running ? `; ended ${running} running step(s)` : ''}`);
  }

  connect();
  return {
    stop() {
      stopping ??= stop();
      return stopping;
    },
    connected() {
      if (stopping) return Promise.reject(new Error('the worker agent stopped'));
      return new Promise((resolve, reject) => welcomeWaiters.push({ resolve, reject }));
    },
  };
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/**
 * The steps' base environment, minus any variable holding the worker's
 * secret: builds run code from the repositories they build, and that code
 * must not be able to impersonate this worker.
 */
function withoutSecret(env: NodeJS.ProcessEnv, secret: string): NodeJS.ProcessEnv {
  const copy: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) if (value !== secret) copy[key] = value;
  return copy;
}

/** Fills a WebSocket frame mask with zeros (see the comment where it is used). */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}
