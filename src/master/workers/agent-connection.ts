/**
 * The master's side of the Shepherd agent protocol: authenticates a worker's
 * WebSocket, then adapts it to the `ConnectedWorker` interface. A malformed
 * or oversized frame closes this one connection with a logged reason; other
 * workers are never disturbed. Files a step sends back (upload messages and
 * frames) go to the upload sink, which checks them and stores them.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import {
  PROTOCOL_VERSION,
  ProtocolError,
  decodeWorkerBinary,
  decodeWorkerMessage,
  encodeControl,
  isDebugWorkerMessage,
  type DebugMasterMessage,
  type DebugWorkerMessage,
  type Hello,
  type MasterMessage,
  type WorkdirKept,
  type WorkerInfo,
} from '../../protocol/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { MasterEventBus } from '../events.js';
import type { UploadReceiver, UploadSink } from '../files/upload-sink.js';
import type { ConnectedWorker, StepCommand, WorkerCapabilities, WorkerSessionHandler } from './connected-worker.js';
import { refusalOf, type AuthenticateWorker } from './credentials.js';

/** WebSocket close codes the master uses. */
export const CLOSE = {
  normal: 1000,
  protocol: 1008,
  auth: 4001,
  replaced: 4002,
  heartbeat: 4003,
  shutdown: 4004,
} as const;

/** What accepting an agent connection needs. */
export interface AgentConnectionDeps {
  /** Checks a worker's name and secret (the coordinator's `authenticateWorker`); constant time whatever the answer. */
  verify: AuthenticateWorker;
  handler: WorkerSessionHandler;
  events: MasterEventBus;
  clock: Clock;
  logger: Logger;
  heartbeatMs: number;
  /** How long a new connection may take to say hello. */
  helloTimeoutMs?: number;
  /** Where files steps send back go. Absent: they are received and dropped (logged once per connection). */
  sink?: Pick<UploadSink, 'receiver'>;
  /** Where debug-session messages go (the master's DebugBroker). Absent: they are dropped. */
  debug?: (connection: AgentConnection, message: DebugWorkerMessage) => void;
  /** Where the agent's answers to keep_workdir go (src/master/builds/keep-workdir.ts). Absent: they are dropped. */
  keep?: (connection: AgentConnection, message: WorkdirKept) => void;
}


/** A live, authenticated Shepherd agent connection. */
export class AgentConnection implements ConnectedWorker {
  readonly protocol = 'shepherd' as const;
  readonly capabilities: WorkerCapabilities = { resumableOutput: true };
  /** Last time anything arrived, for the heartbeat sweep. */
  lastHeard: number;
  #closed = false;

  constructor(
    readonly name: string,
    readonly info: WorkerInfo,
    readonly remote: string,
    private readonly socket: WebSocket,
    now: number,
  ) {
    this.lastHeard = now;
  }

  #send(message: MasterMessage): void {
    if (this.#closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(encodeControl(message));
  }

  startStep(stepId: number, buildId: number, command: StepCommand): void {
    this.#send({ type: 'start_step', step_id: stepId, build_id: buildId, command });
  }

  ack(stepId: number, seq: number): void {
    this.#send({ type: 'ack', step_id: stepId, seq });
  }

  release(stepId: number): void {
    this.#send({ type: 'release', step_id: stepId });
  }

  cancel(stepId: number, reason: string): void {
    this.#send({ type: 'cancel', step_id: stepId, reason });
  }

  /** Asks the agent to keep a failed build's tree (see src/master/builds/keep-workdir.ts). */
  keepWorkdir(buildId: number, builderDir: string): void {
    this.#send({ type: 'keep_workdir', build_id: buildId, builder_dir: builderDir });
  }

  /** Sends a debug-session message (see src/master/debug/). */
  sendDebug(message: DebugMasterMessage): void {
    this.#send(message);
  }

  close(reason: string, code: number = CLOSE.normal): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.close(code, reason.slice(0, 120));
  }

  get closed(): boolean {
    return this.#closed;
  }
}

/**
 * Takes a freshly upgraded worker WebSocket through hello and authentication,
 * then routes its frames to the session handler. Resolves once the socket
 * closes.
 */
export function acceptAgentSocket(
  socket: WebSocket,
  remote: string,
  deps: AgentConnectionDeps,
  register: (connection: AgentConnection) => void,
): void {
  const { logger, clock } = deps;
  let connection: AgentConnection | undefined;
  let attaching: Promise<void> | undefined;
  let uploads: UploadReceiver | undefined;
  let ended = false;

  const helloTimer: TimerHandle = clock.setTimeout(() => {
    if (!connection && !ended) fail(new ProtocolError('no hello within the time allowed'));
  }, deps.helloTimeoutMs ?? 10_000);

  function fail(error: Error): void {
    logger.warn({ worker: connection?.name, remote, reason: error.message }, 'closing worker connection: malformed frame');
    // Before the close goes out: its partial files are on their way out by the time the agent hears of it.
    uploads?.close();
    if (connection) connection.close(error.message, CLOSE.protocol);
    else socket.close(CLOSE.protocol, error.message.slice(0, 120));
  }

  function refuse(hello: Hello, code: 'SHEPHERD_E_WORKER_AUTH' | 'SHEPHERD_E_WORKER_PROTOCOL', message: string): void {
    logger.warn({ worker: hello.name, remote, code }, `refused worker connection: ${message}`);
    deps.events.emit('worker:refused', { name: hello.name, code, reason: message, remote });
    socket.send(encodeControl({ type: 'refused', code, message }));
    socket.close(code === 'SHEPHERD_E_WORKER_AUTH' ? CLOSE.auth : CLOSE.protocol, code);
  }

  async function onHello(hello: Hello): Promise<void> {
    helloTimer.cancel();
    if (hello.protocol !== PROTOCOL_VERSION) {
      refuse(hello, 'SHEPHERD_E_WORKER_PROTOCOL', `protocol version ${hello.protocol} is not supported (this master speaks ${PROTOCOL_VERSION}); upgrade the agent`);
      return;
    }
    const { verdict, sessionSecret } = deps.verify(hello.name, hello.secret);
    if (verdict !== 'ok') {
      refuse(hello, 'SHEPHERD_E_WORKER_AUTH', refusalOf(verdict, hello.name));
      return;
    }
    const conn = new AgentConnection(hello.name, hello.info, remote, socket, clock.now());
    connection = conn;
    uploads = deps.sink?.receiver(conn.name, fail, { pause: () => socket.pause(), resume: () => socket.resume() }) ?? droppingUploads(logger, conn.name);
    register(conn);
    const resume = await deps.handler.attach(conn, hello.held);
    if (conn.closed) return;
    socket.send(encodeControl({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      heartbeat_ms: deps.heartbeatMs,
      resume: resume.map((r) => ({ step_id: r.stepId, acked_seq: r.ackedSeq })),
      ...(sessionSecret ? { session_secret: sessionSecret } : {}),
    }));
    logger.info({ worker: conn.name, remote, held: hello.held.length, resumed: resume.length }, 'worker connected');
  }

  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (ended) return;
    try {
      if (connection) connection.lastHeard = clock.now();
      if (isBinary) {
        if (!connection || !uploads) throw new ProtocolError('output before hello');
        const frame = decodeWorkerBinary(data);
        if (frame.type === 'output') deps.handler.output(connection, frame.header.step_id, frame.header.seq, frame.data);
        else uploads.data(frame.header, frame.data);
        return;
      }
      const message = decodeWorkerMessage(data.toString('utf8'));
      if (isDebugWorkerMessage(message)) {
        if (!connection) throw new ProtocolError(`${message.type} before hello`);
        deps.debug?.(connection, message);
        return;
      }
      switch (message.type) {
        case 'hello':
          if (connection || attaching) throw new ProtocolError('second hello on one connection');
          attaching = onHello(message).catch((error: unknown) => {
            logger.error({ err: error, worker: message.name }, 'attaching worker failed');
            socket.close(CLOSE.protocol, 'internal error while attaching');
          });
          return;
        case 'step_finished':
          if (!connection) throw new ProtocolError('step_finished before hello');
          deps.handler.stepFinished(connection, message.step_id, message.last_seq, message.outcome, message.properties ?? {});
          return;
        case 'heartbeat':
          return;
        case 'workdir_kept':
          if (!connection) throw new ProtocolError('workdir_kept before hello');
          deps.keep?.(connection, message);
          return;
        case 'upload_begin':
          if (!uploads) throw new ProtocolError('upload_begin before hello');
          uploads.begin(message);
          return;
        case 'upload_end':
          if (!uploads) throw new ProtocolError('upload_end before hello');
          uploads.end(message);
          return;
        case 'upload_skipped':
          if (!uploads) throw new ProtocolError('upload_skipped before hello');
          uploads.skipped(message);
          return;
      }
    } catch (error) {
      if (error instanceof ProtocolError) fail(error);
      else {
        logger.error({ err: error, worker: connection?.name }, 'error handling worker frame');
        fail(new ProtocolError('internal error handling frame'));
      }
    }
  });

  // The agent pings every heartbeat interval as well; ws answers the pings itself.
  socket.on('ping', () => {
    if (connection) connection.lastHeard = clock.now();
  });

  socket.on('error', (error: Error) => {
    // ws reports oversized frames (1009) and framing errors here, then closes.
    logger.warn({ worker: connection?.name, remote, reason: error.message }, 'worker connection error');
  });

  socket.on('close', (code: number, reason: Buffer) => {
    ended = true;
    helloTimer.cancel();
    uploads?.close();
    if (!connection) return;
    const why = reason.length ? `${code} ${reason.toString()}` : String(code);
    void (attaching ?? Promise.resolve()).then(() => deps.handler.detach(connection!, why));
  });
}

/** Uploads on a master without a sink: nothing is stored; said once per connection. */
function droppingUploads(logger: Logger, worker: string): UploadReceiver {
  let told = false;
  const tell = () => {
    if (told) return;
    told = true;
    logger.warn({ worker }, 'a worker sends files, but this master stores none; they are dropped');
  };
  return { begin: tell, data: tell, end: tell, skipped: tell, close() {} };
}
