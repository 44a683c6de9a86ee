/**
 * The worker side of a connection, driven by a test: it records what the
 * master asks of it (steps to run, acks, releases, cancels) and lets the test
 * wait for those requests. The worker protocol is the boundary of the master,
 * so this is the one thing tests stand in for; the real agent is exercised
 * end to end in test/. Test-only: excluded from the build.
 */
import type { StepCommand, WorkerInfo } from '../../protocol/index.js';
import type { ConnectedWorker } from './connected-worker.js';

/** A step the master asked this worker to run. */
export interface StartedStep {
  stepId: number;
  buildId: number;
  command: StepCommand;
}

/** The info a test worker reports unless told otherwise. */
export function testWorkerInfo(overrides: Partial<WorkerInfo> = {}): WorkerInfo {
  return { os: 'linux', arch: 'x86_64', cpus: 2, hostname: 'h', agent_version: 't', dimensions: {}, ...overrides };
}

/** A worker connection driven by the test. */
export class TestWorker implements ConnectedWorker {
  readonly protocol = 'shepherd' as const;
  readonly capabilities = { resumableOutput: true };
  readonly remote = 'test';
  readonly info: WorkerInfo;
  started: StartedStep[] = [];
  acks = new Map<number, number>();
  released: number[] = [];
  cancelled: number[] = [];
  closedWith: string | null = null;
  #waiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    info: Partial<WorkerInfo> = {},
  ) {
    this.info = testWorkerInfo(info);
  }

  startStep(stepId: number, buildId: number, command: StepCommand) {
    this.started.push({ stepId, buildId, command });
    this.#wake();
  }
  ack(stepId: number, seq: number) {
    this.acks.set(stepId, seq);
    this.#wake();
  }
  release(stepId: number) {
    this.released.push(stepId);
  }
  cancel(stepId: number) {
    this.cancelled.push(stepId);
    this.#wake();
  }
  close(reason: string) {
    this.closedWith = reason;
  }

  /** Resolves with the first step the master asked this worker to run that matches. */
  async stepStarted(match: (step: StartedStep) => boolean = () => true): Promise<StartedStep> {
    for (;;) {
      const found = this.started.find(match);
      if (found) return found;
      await this.#changed();
    }
  }

  /** Resolves once the master has acked (stored) the step's output up to `seq`. */
  async acked(stepId: number, seq: number): Promise<void> {
    while ((this.acks.get(stepId) ?? 0) < seq) await this.#changed();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
