/**
 * The worker's debug sessions: takes the master's debug messages, applies
 * the admin's policy (`policy.ts`), waits for the admin's approval when the
 * policy asks for it (`approval.ts`), runs the process (`debug-process.ts`)
 * in the build's directory with the build's environment, and ends it at the
 * policy's time limit, when the master closes it, or when the connection to
 * the master drops (nobody is at the other end any more).
 */
import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import {
  MAX_DEBUG_CHUNK_BYTES,
  type DebugMasterMessage,
  type DebugOpen,
  type DebugWorkerMessage,
} from '../../protocol/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import { formatDuration } from '../format-duration.js';
import type { Logger } from '../logger.js';
import { resolveStepCwd } from '../step-cwd.js';
import { approvalMatches, endMatches } from './approval.js';
import { loadPty, openDebugProcess, type DebugProcess, type PtyAvailability } from './debug-process.js';
import { decideDebugSession, type DebugPolicy } from './policy.js';

/** Where debug sessions send their messages: the current connection's link, if any. */
export interface DebugLink {
  sendControl(message: DebugWorkerMessage): void;
  readonly congested: boolean;
  drained(): Promise<void>;
}

/** What the sessions need from the agent. */
export interface DebugSessionsDeps {
  /** This worker's name, for the reasons shown to people. */
  worker: string;
  /** The worker's secret: the key of approval tokens. */
  secret: string;
  /** The agent's base directory (builders' directories are under it). */
  dir: string;
  policy: DebugPolicy | undefined;
  /** The agent's environment without its secret; the build's env is merged over it. */
  env: NodeJS.ProcessEnv;
  clock: Clock;
  log: Logger;
  /** The connection to send on (null while there is none). */
  link(): DebugLink | null;
  /** SIGHUP to SIGKILL. */
  killGraceMs?: number;
  /** The PTY module (default: node-pty if it loads). */
  pty?: () => Promise<PtyAvailability>;
  /** Where a build's failed tree is kept (`kept-trees.ts`), if it is: sessions of that build open there. */
  keptTree?: (buildId: number) => string | undefined;
}

interface Session {
  id: string;
  request: DebugOpen;
  cwd: string;
  maxMs: number;
  state: 'pending' | 'starting' | 'running' | 'ended';
  process: DebugProcess | null;
  limit: TimerHandle;
  /** Why the worker ended it, for the exit message. */
  endedBy: string | null;
}

const DEFAULT_KILL_GRACE_MS = 2000;

/** The debug sessions of one agent, across its connections. */
export class DebugSessions {
  readonly #deps: DebugSessionsDeps;
  readonly #sessions = new Map<string, Session>();

  constructor(deps: DebugSessionsDeps) {
    this.#deps = deps;
  }

  /** Sessions open or waiting for approval. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Acts on one message from the master. */
  handle(message: DebugMasterMessage): void {
    if (message.type === 'debug_open') return this.#open(message);
    const session = this.#sessions.get(message.session_id);
    // A message for a session that has ended crossed its end on the wire.
    if (!session) return;
    switch (message.type) {
      case 'debug_approve':
        return this.#approve(session, message.token);
      case 'debug_end':
        if (!endMatches(this.#deps.secret, session.id, message.token)) {
          this.#deps.log(`debug session ${session.id}: a request to end it with a token that does not match was ignored`);
          return;
        }
        this.#deps.log(`debug session ${session.id}: ended by the worker's admin`);
        return this.#end(session, "ended by the worker's admin");
      case 'debug_input':
        if (session.state === 'running') session.process!.write(Buffer.from(message.data_base64, 'base64'));
        return;
      case 'debug_resize':
        if (session.state === 'running') session.process!.resize(message.cols, message.rows);
        return;
      case 'debug_close':
        this.#deps.log(`debug session ${session.id}: closed by the master (${message.reason})`);
        return this.#end(session, null);
    }
  }

  /** Ends every session (the connection dropped, or the agent stops). */
  endAll(reason: string): void {
    for (const session of [...this.#sessions.values()]) {
      this.#deps.log(`debug session ${session.id}: ended: ${reason}`);
      this.#end(session, reason);
      // Nobody will hear its exit.
      this.#sessions.delete(session.id);
    }
  }

  #send(message: DebugWorkerMessage): void {
    this.#deps.link()?.sendControl(message);
  }

  #open(request: DebugOpen): void {
    const { worker, log } = this.#deps;
    const refuse = (reason: string) => {
      log(`debug session ${request.session_id} for ${request.user} (build ${request.build_id}) refused: ${reason}`);
      this.#send({ type: 'debug_refused', session_id: request.session_id, reason });
    };
    if (this.#sessions.has(request.session_id)) return refuse(`session ${request.session_id} is already open`);
    const decision = decideDebugSession(this.#deps.policy, request.user, worker);
    if (!decision.ok) return refuse(decision.reason);
    let cwd: string;
    try {
      // A kept tree is that build's own; the builder's directory may hold a later build by now.
      const kept = this.#deps.keptTree?.(request.build_id);
      cwd = kept ? resolveStepCwd(dirname(kept), basename(kept), request.workdir) : resolveStepCwd(this.#deps.dir, request.builder_dir, request.workdir);
    } catch (error) {
      return refuse((error as Error).message);
    }
    if (!isDirectory(cwd)) return refuse(`the build's directory ${cwd} no longer exists on ${worker}`);
    const session: Session = {
      id: request.session_id,
      request,
      cwd,
      maxMs: decision.maxMs,
      state: 'pending',
      process: null,
      endedBy: null,
      // The limit counts from the request: a session waiting for approval is not kept for ever either.
      limit: this.#deps.clock.setTimeout(() => {
        log(`debug session ${session.id}: time limit of ${formatDuration(decision.maxMs)} reached; ending it`);
        this.#end(session, `the worker's time limit of ${formatDuration(decision.maxMs)} was reached`);
      }, decision.maxMs),
    };
    this.#sessions.set(session.id, session);
    const what = request.command ? `command ${JSON.stringify(request.command)}` : 'a shell';
    if (decision.approval) {
      log(
        `debug session ${session.id}: ${request.user} asks for ${what} in ${cwd} (build ${request.build_id}); ` +
          `approve it with: shepherd approve ${session.id} --secret-env VAR`,
      );
      this.#send({
        type: 'debug_pending',
        session_id: session.id,
        note: `waiting for the admin of ${worker} to approve session ${session.id} (shepherd approve ${session.id})`,
      });
      return;
    }
    log(`debug session ${session.id}: ${request.user} opens ${what} in ${cwd} (build ${request.build_id})`);
    void this.#start(session);
  }

  #approve(session: Session, token: string): void {
    if (session.state !== 'pending') return;
    if (!approvalMatches(this.#deps.secret, session.id, token)) {
      this.#deps.log(`debug session ${session.id}: an approval token that does not match was rejected`);
      this.#send({
        type: 'debug_pending',
        session_id: session.id,
        note: `an approval token for session ${session.id} was rejected: it does not match; still waiting`,
        rejected: true,
      });
      return;
    }
    this.#deps.log(`debug session ${session.id}: approved by the admin`);
    void this.#start(session);
  }

  async #start(session: Session): Promise<void> {
    session.state = 'starting';
    const availability = await (this.#deps.pty ?? loadPty)();
    if (session.state !== 'starting') return;
    const { request } = session;
    const child = openDebugProcess(
      { ...(request.command ? { command: request.command } : {}), cwd: session.cwd, env: { ...this.#deps.env, ...request.env }, cols: request.cols, rows: request.rows },
      availability,
    );
    session.process = child;
    session.state = 'running';
    this.#send({
      type: 'debug_opened',
      session_id: session.id,
      mode: child.mode,
      ...(child.note ? { note: child.note } : {}),
      max_ms: session.maxMs,
      cwd: session.cwd,
    });
    child.onData((data) => this.#output(session, data));
    child.onExit((exit) => {
      session.limit.cancel();
      const wasOpen = this.#sessions.get(session.id) === session;
      this.#sessions.delete(session.id);
      session.state = 'ended';
      this.#deps.log(`debug session ${session.id}: ended (${exit.error ?? (exit.signal ? `signal ${exit.signal}` : `exit ${exit.exitCode}`)})`);
      if (!wasOpen) return;
      this.#send({
        type: 'debug_exit',
        session_id: session.id,
        exit_code: exit.exitCode,
        signal: exit.signal,
        reason: exit.error ?? session.endedBy,
      });
    });
  }

  #output(session: Session, data: Buffer): void {
    const link = this.#deps.link();
    if (!link) return;
    for (let at = 0; at < data.length; at += MAX_DEBUG_CHUNK_BYTES) {
      link.sendControl({ type: 'debug_output', session_id: session.id, data_base64: data.subarray(at, at + MAX_DEBUG_CHUNK_BYTES).toString('base64') });
    }
    if (link.congested && session.process) {
      // Hold the process back until the master has taken what was sent.
      const child = session.process;
      child.pause();
      void link.drained().then(() => child.resume());
    }
  }

  /** Ends a session; `reason` is why the worker ended it (null: the master asked). */
  #end(session: Session, reason: string | null): void {
    if (session.state === 'ended') return;
    session.limit.cancel();
    session.endedBy = reason;
    if (session.process && session.state === 'running') {
      session.process.kill(this.#deps.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
      return;
    }
    // Never started (pending approval, or still loading the PTY): nothing to kill.
    session.state = 'ended';
    this.#sessions.delete(session.id);
    if (reason !== null) this.#send({ type: 'debug_exit', session_id: session.id, exit_code: null, signal: null, reason });
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
