/**
 * The master's part in debug sessions: a relay, not a judge. It finds the
 * worker that ran the build and its live connection, asks the worker for a
 * session in the build's directory (`debug_open`), and relays between the
 * person's client and the worker. The worker decides under its own admin's
 * policy; the master records: an audit row per session (refusals too) and
 * the session's output as an asciicast v2 file under DATA_DIR/debug/.
 *
 * Client protocol (the WebSocket at GET /api/v1/builds/:id/debug): the
 * client first sends `{"type":"open","cols":80,"rows":24,"command":[...]?}`;
 * after that binary frames (or `{"type":"input","data":"..."}`) are input and
 * `{"type":"resize","cols":C,"rows":R}` resizes. The master sends output as
 * binary frames and status as JSON text (`DebugClientStatus`); closing the
 * WebSocket ends the session.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DebugClientStatus } from '../api/schemas.js';
import { MAX_DEBUG_CHUNK_BYTES, type DebugMasterMessage, type DebugWorkerMessage } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { ShepherdError } from '../errors.js';
import type { Store } from '../store/store.js';
import { AsciicastWriter } from './asciicast.js';
import { debugTarget } from './debug-target.js';

/** What the broker needs of a worker's connection (the agent connection implements it). */
export interface DebugChannel {
  readonly name: string;
  sendDebug(message: DebugMasterMessage): void;
}

/** The person's end of a session, whatever carries it. */
export interface DebugClient {
  output(data: Buffer): void;
  status(message: DebugClientStatus): void;
  /** The session is over: close the client's connection. */
  end(): void;
}

/** What a client asks for. */
export interface DebugRequest {
  buildId: number;
  user: string;
  command?: string[];
  cols: number;
  rows: number;
}

/** A session as the client's connection drives it. */
export interface DebugClientHandle {
  readonly session: string;
  input(data: Buffer): void;
  resize(cols: number, rows: number): void;
  /** The client left. */
  close(reason: string): void;
}

/** What the broker needs from the master. */
export interface DebugBrokerDeps {
  store: Store;
  config: Readonly<Config>;
  clock: Clock;
  logger: Logger;
  /** The live connection of a worker, if it is connected (the newest one). */
  connectionOf(worker: string): DebugChannel | undefined;
  /** Where recordings go: `<dataDir>/debug/<session>.cast`. */
  dataDir: string;
  /** New session ids (tests fix them). */
  newSessionId?: () => string;
  /** How long `approve` waits for the worker's verdict. */
  approvalWaitMs?: number;
  /** A session started waiting for the worker admin's approval (the master mails the admins). */
  onAwaitingApproval?(session: AwaitingApproval): void;
}

/** A session the worker holds until its admin approves it. */
export interface AwaitingApproval {
  session: string;
  buildId: number;
  worker: string;
  user: string;
  command: string[] | null;
}

/** The outcome of relaying an approval token. */
export type ApprovalOutcome = { approved: true } | { approved: false; reason: string };

interface LiveSession {
  id: string;
  buildId: number;
  worker: string;
  channel: DebugChannel;
  client: DebugClient;
  cols: number;
  rows: number;
  state: 'asked' | 'pending' | 'open' | 'ended';
  user: string;
  command: string[] | null;
  recording: AsciicastWriter | null;
  /** Waiting for the worker's answer to an approval token. */
  approvalWaiters: ((outcome: ApprovalOutcome) => void)[];
  /** Called once the session has ended (an admin's end request waits on it). */
  onEnded: (() => void)[];
}

/** Subdirectory of the data directory that holds recordings. */
export const RECORDINGS_DIR = 'debug';

/** The relay between clients and workers, and the recorder. */
export class DebugBroker {
  readonly #deps: DebugBrokerDeps;
  readonly #sessions = new Map<string, LiveSession>();

  constructor(deps: DebugBrokerDeps) {
    this.#deps = deps;
  }

  /** Sessions being asked for or open. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Where a session's recording is, relative to the data directory. */
  static recordingName(session: string): string {
    return `${RECORDINGS_DIR}/${session}.cast`;
  }

  /**
   * Asks the build's worker for a session. Throws SHEPHERD_E_NOT_FOUND for
   * an unknown build and SHEPHERD_E_CONFLICT when its worker is not
   * connected or is a Buildbot worker (which cannot offer one); everything after that (refusal included) reaches the client.
   */
  async open(request: DebugRequest, client: DebugClient): Promise<DebugClientHandle> {
    const { store, clock, logger } = this.#deps;
    const build = await store.getBuild(request.buildId);
    if (!build) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no build with id ${request.buildId}`);
    if (this.#deps.config.workers.some((w) => w.name === build.worker && w.protocol === 'buildbot')) {
      throw new ShepherdError(
        'SHEPHERD_E_CONFLICT',
        `worker ${build.worker}, which ran build ${build.id}, is a Buildbot worker: debug sessions are unavailable there (buildbot-worker offers no interactive shell)`,
      );
    }
    const channel = this.#deps.connectionOf(build.worker);
    if (!channel) {
      throw new ShepherdError('SHEPHERD_E_CONFLICT', `worker ${build.worker}, which ran build ${build.id}, is not connected; a debug session needs it online`);
    }
    const steps = await store.getSteps(build.id);
    const target = debugTarget(build, steps, this.#deps.config.builders.find((b) => b.name === build.builder));
    const id = (this.#deps.newSessionId ?? newSessionId)();
    await store.createDebugSession({ session: id, buildId: build.id, worker: build.worker, user: request.user, command: request.command ?? null, startedAt: clock.now() });
    const session: LiveSession = {
      id,
      buildId: build.id,
      worker: build.worker,
      channel,
      client,
      cols: request.cols,
      rows: request.rows,
      state: 'asked',
      user: request.user,
      command: request.command ?? null,
      recording: null,
      approvalWaiters: [],
      onEnded: [],
    };
    this.#sessions.set(id, session);
    logger.info({ session: id, build: build.id, worker: build.worker, user: request.user, command: request.command }, 'debug session asked for');
    client.status({ type: 'session', session: id, build_id: build.id, worker: build.worker });
    channel.sendDebug({
      type: 'debug_open',
      session_id: id,
      user: request.user,
      build_id: build.id,
      builder_dir: target.builderDir,
      workdir: target.workdir,
      env: target.env,
      ...(request.command ? { command: request.command } : {}),
      cols: request.cols,
      rows: request.rows,
    });
    return {
      session: id,
      input: (data) => {
        if (session.state !== 'open') return;
        for (let at = 0; at < data.length; at += INPUT_CHUNK) {
          channel.sendDebug({ type: 'debug_input', session_id: id, data_base64: data.subarray(at, at + INPUT_CHUNK).toString('base64') });
        }
      },
      resize: (cols, rows) => {
        if (session.state === 'ended') return;
        session.cols = cols;
        session.rows = rows;
        channel.sendDebug({ type: 'debug_resize', session_id: id, cols, rows });
        session.recording?.resize(clock.now(), cols, rows);
      },
      close: (reason) => {
        if (session.state === 'ended') return;
        channel.sendDebug({ type: 'debug_close', session_id: id, reason });
        void this.#finish(session, { exitCode: null, refusedReason: null, endReason: reason });
      },
    };
  }

  /** A debug message from a worker's connection. */
  fromWorker(channel: DebugChannel, message: DebugWorkerMessage): void {
    const session = this.#sessions.get(message.session_id);
    // A session of another connection (or one already over) is not this worker's to speak for.
    if (!session || session.channel !== channel) return;
    const { clock, store, logger } = this.#deps;
    switch (message.type) {
      case 'debug_refused':
        logger.info({ session: session.id, worker: session.worker, reason: message.reason }, 'debug session refused by the worker');
        session.client.status({ type: 'refused', reason: message.reason });
        return void this.#finish(session, { exitCode: null, refusedReason: message.reason, endReason: null });
      case 'debug_pending':
        // The first pending note is the worker asking for its admin's approval; later ones answer tokens.
        if (session.state === 'asked') {
          this.#deps.onAwaitingApproval?.({ session: session.id, buildId: session.buildId, worker: session.worker, user: session.user, command: session.command });
        }
        session.state = 'pending';
        session.client.status({ type: 'pending', note: message.note });
        this.#settleApproval(session, message.rejected ? { approved: false, reason: message.note } : undefined);
        return;
      case 'debug_opened': {
        if (session.state === 'open') return;
        session.state = 'open';
        const recording = DebugBroker.recordingName(session.id);
        try {
          session.recording = new AsciicastWriter(join(this.#deps.dataDir, recording), {
            width: session.cols,
            height: session.rows,
            startedAt: clock.now(),
            env: { TERM: message.mode === 'pty' ? 'xterm-256color' : 'dumb' },
            title: `build ${session.buildId} on ${session.worker}`,
          });
          void store.markDebugSessionOpened(session.id, { mode: message.mode, recording }).catch((error: unknown) => logger.error({ err: error, session: session.id }, 'recording the debug session failed'));
        } catch (error) {
          logger.error({ err: error, session: session.id }, 'cannot record the debug session');
        }
        session.client.status({ type: 'opened', mode: message.mode, ...(message.note ? { note: message.note } : {}), cwd: message.cwd, max_ms: message.max_ms });
        this.#settleApproval(session, { approved: true });
        return;
      }
      case 'debug_output': {
        const data = Buffer.from(message.data_base64, 'base64');
        session.recording?.output(clock.now(), data);
        session.client.output(data);
        return;
      }
      case 'debug_exit':
        session.client.status({ type: 'exit', exit_code: message.exit_code, signal: message.signal, reason: message.reason });
        return void this.#finish(session, { exitCode: message.exit_code, refusedReason: null, endReason: message.reason });
    }
  }

  /** A worker's connection closed: its sessions are over. */
  workerDisconnected(channel: DebugChannel): void {
    for (const session of [...this.#sessions.values()]) {
      if (session.channel !== channel) continue;
      const reason = `the connection to worker ${session.worker} was lost`;
      session.client.status({ type: 'exit', exit_code: null, signal: null, reason });
      void this.#finish(session, { exitCode: null, refusedReason: null, endReason: reason });
    }
  }

  /**
   * Relays the worker admin's approval token to a pending session and waits
   * for the worker's verdict. The master cannot check the token: only the
   * worker knows its secret.
   */
  approve(sessionId: string, token: string): Promise<ApprovalOutcome> {
    const session = this.#sessions.get(sessionId);
    if (!session) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no debug session ${sessionId} is waiting (it ended, or never existed)`);
    if (session.state !== 'pending') {
      throw new ShepherdError('SHEPHERD_E_CONFLICT', `debug session ${sessionId} is not waiting for approval (${session.state === 'open' ? 'it is already open' : 'the worker has not answered yet'})`);
    }
    return new Promise((resolve) => {
      const timer = this.#deps.clock.setTimeout(() => {
        session.approvalWaiters = session.approvalWaiters.filter((w) => w !== settle);
        resolve({ approved: false, reason: `worker ${session.worker} did not answer in time` });
      }, this.#deps.approvalWaitMs ?? 15_000);
      const settle = (outcome: ApprovalOutcome) => {
        timer.cancel();
        resolve(outcome);
      };
      session.approvalWaiters.push(settle);
      session.channel.sendDebug({ type: 'debug_approve', session_id: sessionId, token });
    });
  }

  /**
   * Relays the worker admin's request to end a session (any session of
   * their worker, open or waiting) and waits for the worker to end it. The
   * worker checks the token; one that does not match is ignored there, and
   * this answers not ended once the wait runs out.
   */
  end(sessionId: string, token: string): Promise<{ ended: boolean }> {
    const session = this.#sessions.get(sessionId);
    if (!session) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no debug session ${sessionId} is open or waiting (it ended, or never existed)`);
    return new Promise((resolve) => {
      const timer = this.#deps.clock.setTimeout(() => resolve({ ended: false }), this.#deps.approvalWaitMs ?? 15_000);
      session.onEnded.push(() => {
        timer.cancel();
        resolve({ ended: true });
      });
      session.channel.sendDebug({ type: 'debug_end', session_id: sessionId, token });
    });
  }

  /** Ends every session (the master stops). */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#sessions.values()].map((session) => {
        session.channel.sendDebug({ type: 'debug_close', session_id: session.id, reason: 'the master is stopping' });
        session.client.status({ type: 'exit', exit_code: null, signal: null, reason: 'the master is stopping' });
        return this.#finish(session, { exitCode: null, refusedReason: null, endReason: 'the master is stopping' });
      }),
    );
  }

  #settleApproval(session: LiveSession, outcome: ApprovalOutcome | undefined): void {
    if (!outcome) return;
    const waiters = session.approvalWaiters;
    session.approvalWaiters = [];
    for (const waiter of waiters) waiter(outcome);
  }

  async #finish(session: LiveSession, end: { exitCode: number | null; refusedReason: string | null; endReason: string | null }): Promise<void> {
    if (session.state === 'ended') return;
    session.state = 'ended';
    this.#sessions.delete(session.id);
    this.#settleApproval(session, { approved: false, reason: end.refusedReason ?? end.endReason ?? 'the session ended' });
    for (const ended of session.onEnded.splice(0)) ended();
    const now = this.#deps.clock.now();
    session.client.end();
    try {
      await session.recording?.close(now);
      await this.#deps.store.finishDebugSession(session.id, { endedAt: now, ...end });
    } catch (error) {
      this.#deps.logger.error({ err: error, session: session.id }, 'recording the end of a debug session failed');
    }
    this.#deps.logger.info({ session: session.id, worker: session.worker, exitCode: end.exitCode, refused: end.refusedReason, reason: end.endReason }, 'debug session ended');
  }
}

// Input is split to the protocol's chunk size; keystrokes are far smaller.
const INPUT_CHUNK = MAX_DEBUG_CHUNK_BYTES;

/** A random session id: unguessable, so an old approval token never fits a new session. */
function newSessionId(): string {
  return randomBytes(12).toString('base64url');
}
