/**
 * The master's view of "a connected worker", whatever protocol it speaks.
 *
 * The Shepherd agent protocol (`agent-connection.ts`) implements it today;
 * Buildbot's msgpack worker protocol will implement it too. The build
 * coordinator only ever talks to this interface, and hears back through
 * `WorkerSessionHandler`.
 */
import type { HeldStep, StepCommand, StepOutcome, WorkerInfo } from '../../protocol/index.js';

export type { HeldStep, StepCommand, StepOutcome, WorkerInfo };

/** What a connection can do beyond running steps. */
export interface WorkerCapabilities {
  /** Output is acknowledged and resent after a reconnect (Shepherd agent: yes). */
  resumableOutput: boolean;
}

/** One live connection to one authenticated worker. */
export interface ConnectedWorker {
  readonly name: string;
  readonly protocol: 'shepherd' | 'buildbot';
  readonly info: WorkerInfo;
  readonly capabilities: WorkerCapabilities;
  /** Where the connection comes from, for logs. */
  readonly remote: string;
  /** Asks the worker to run a step; output and the end come back through the handler. */
  startStep(stepId: number, buildId: number, command: StepCommand): void;
  /** The master has stored output up to `seq` for the step. */
  ack(stepId: number, seq: number): void;
  /** The master has recorded the step as finished; the worker may forget it. */
  release(stepId: number): void;
  /** Kill the step's process group (SIGTERM, then SIGKILL). */
  cancel(stepId: number, reason: string): void;
  /** Closes the connection (the worker will reconnect). */
  close(reason: string): void;
}

/** What the master does with what a connected worker says. Implemented by the build coordinator. */
export interface WorkerSessionHandler {
  /**
   * A worker authenticated. `held` lists the steps its agent still holds from
   * an earlier connection. Returns, for each held step the master still
   * wants, the last output sequence number it has stored; the worker kills
   * the held steps that are not returned.
   */
  attach(worker: ConnectedWorker, held: HeldStep[]): Promise<{ stepId: number; ackedSeq: number }[]>;
  /** A chunk of a step's output, in sequence order per step (duplicates possible after a resume). */
  output(worker: ConnectedWorker, stepId: number, seq: number, data: Buffer): void;
  /**
   * A step's process ended; `lastSeq` is the last output chunk sent for it.
   * `properties` are the build properties the step set (a checkout's
   * `got_revision`); empty when it set none.
   */
  stepFinished(worker: ConnectedWorker, stepId: number, lastSeq: number, outcome: StepOutcome, properties: Record<string, string>): void;
  /** The connection ended (for any reason). */
  detach(worker: ConnectedWorker, reason: string): void;
}
