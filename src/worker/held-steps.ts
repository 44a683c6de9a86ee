/**
 * The steps the agent holds: running, or finished but not yet released by
 * the master. A step outlives connections: while the master is away its
 * process keeps running and its output keeps being numbered and spooled;
 * when a connection comes back (`attach`), the master's resume list says
 * from which sequence number to resend.
 *
 * Per connection, each step remembers the last sequence number sent on it,
 * so every chunk goes out at most once per connection and always in order,
 * and `step_finished` only after the step's last chunk.
 *
 * Files the step asked for (`command.collect`) are found when its process
 * ends (unless it was cancelled) and sent after its last output chunk and
 * before `step_finished`, one at a time. Each goes out once: a file being
 * sent when the connection drops is abandoned (the master deletes the part
 * it got), and the step's remaining files go on the next connection.
 */
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MAX_OUTPUT_CHUNK_BYTES, type HeldStep, type PlannedFile, type StartStep, type StepOutcome, type Welcome } from '../protocol/index.js';
import type { Clock } from './clock.js';
import { collectFiles } from './collect-files.js';
import { formatDuration } from './format-duration.js';
import type { Logger } from './logger.js';
import type { MasterLink } from './master-link.js';
import { OutputSequencer } from './output-sequencer.js';
import { signalGroup } from './process-group.js';
import type { RunningGroups } from './running-groups.js';
import type { Spool } from './spool.js';
import { resolveStepCwd } from './step-cwd.js';
import { removeStepDir } from './step-dir.js';
import { runStep, type RunningStep } from './step-runner.js';

/** What the registry needs from the agent. */
export interface HeldStepsOptions {
  dir: string;
  /** Where each step gets its own directory, `<stepsDir>/<step id>` (see `step-dir.ts`). */
  stepsDir: string;
  clock: Clock;
  killGraceMs: number;
  env: NodeJS.ProcessEnv;
  spool: Spool;
  groups: RunningGroups;
  log: Logger;
}

interface Step {
  readonly id: number;
  readonly buildId: number;
  readonly sequencer: OutputSequencer;
  runner: RunningStep | null;
  /** Highest sequence number produced. */
  lastSeq: number;
  /** Set once the process has ended and all its output is sequenced. */
  outcome: StepOutcome | null;
  /** What the step wrote to its properties file; kept until release, for every resend of step_finished. */
  properties: Record<string, string>;
  /** The step's own directory, removed when the step is forgotten. */
  readonly dir: string;
  /** The files to send before `step_finished` (found once the process ended). */
  files: PlannedFile[];
  /** How many of `files` have gone out (or been abandoned). */
  filesSent: number;
  /** The current connection carries this step (started on it, or resumed by its welcome). */
  live: boolean;
  /** Last sequence number sent on the current connection. */
  sentSeq: number;
  finishedSent: boolean;
  pumping: boolean;
  dropped: boolean;
}

/** The registry of held steps and the resending of their output. */
export class HeldSteps {
  readonly #options: HeldStepsOptions;
  readonly #steps = new Map<number, Step>();
  #link: MasterLink | null = null;
  /** Upload ids are unique for the agent's lifetime, so never reused on a connection. */
  #lastUploadId = 0;

  constructor(options: HeldStepsOptions) {
    this.#options = options;
  }

  /** How many steps are held. */
  get size(): number {
    return this.#steps.size;
  }

  /** How many held steps are still running. */
  get running(): number {
    let n = 0;
    for (const step of this.#steps.values()) if (!step.outcome) n++;
    return n;
  }

  /** What `hello.held` says: every held step, its last sequence number and its outcome if it ended. */
  held(): HeldStep[] {
    return [...this.#steps.values()].map((step) => ({
      step_id: step.id,
      last_seq: step.lastSeq,
      ...(step.outcome ? { finished: step.outcome } : {}),
    }));
  }

  /**
   * A connection was welcomed. Steps in `resume` are resent from the
   * master's stored sequence number on; the others are killed and forgotten.
   */
  attach(link: MasterLink, resume: Welcome['resume']): { resumed: number; dropped: number } {
    this.#link = link;
    const wanted = new Map(resume.map((r) => [r.step_id, r.acked_seq]));
    let resumed = 0;
    let dropped = 0;
    for (const step of [...this.#steps.values()]) {
      const acked = wanted.get(step.id);
      if (acked === undefined) {
        this.#drop(step, 'the master no longer wants it');
        dropped++;
        continue;
      }
      this.#options.spool.ack(step.id, acked);
      step.sentSeq = Math.min(acked, step.lastSeq);
      step.finishedSent = false;
      step.live = true;
      resumed++;
    }
    for (const id of wanted.keys()) {
      if (!this.#steps.has(id)) this.#options.log(`step ${id}: the master resumes it, but this agent does not hold it`);
    }
    for (const step of this.#steps.values()) this.#pump(step);
    return { resumed, dropped };
  }

  /** The connection is gone: output keeps being spooled until the next `attach`. */
  detach(): void {
    this.#link = null;
    for (const step of this.#steps.values()) {
      step.live = false;
      step.finishedSent = false;
    }
  }

  /** Runs a step the master sent. */
  start(message: StartStep): void {
    const { log, spool, groups, clock } = this.#options;
    if (this.#steps.has(message.step_id)) {
      log(`step ${message.step_id}: already held; ignoring a second start_step`);
      return;
    }
    const step: Step = {
      id: message.step_id,
      buildId: message.build_id,
      sequencer: new OutputSequencer({
        clock,
        onChunk: (seq, stream, data) => {
          if (step.dropped) return;
          spool.append(step.id, seq, stream, data);
          step.lastSeq = seq;
          this.#pump(step);
        },
      }),
      runner: null,
      lastSeq: 0,
      outcome: null,
      properties: {},
      dir: join(this.#options.stepsDir, String(message.step_id)),
      files: [],
      filesSent: 0,
      live: this.#link !== null,
      sentSeq: 0,
      finishedSent: false,
      pumping: false,
      dropped: false,
    };
    this.#steps.set(step.id, step);
    const startedAt = clock.now();
    const runner = runStep(message.command, {
      dir: this.#options.dir,
      clock,
      killGraceMs: this.#options.killGraceMs,
      baseEnv: this.#options.env,
      stepDir: step.dir,
      onOutput: (stream, data) => step.sequencer.write(stream, data),
      onSpawn: (pgid) => {
        groups.add(pgid, step.id, startedAt);
        log(`step ${step.id} (build ${step.buildId}): started, process group ${pgid}`);
      },
    });
    step.runner = runner;
    void runner.done.then(async (outcome) => {
      if (runner.pgid !== null) groups.remove(runner.pgid);
      if (step.dropped) return;
      const collect = message.command.collect ?? [];
      // A cancelled build is not wanted any more, and neither are its files.
      if (collect.length > 0 && outcome.ended_by !== 'cancel' && outcome.spawn_error === null) {
        await this.#collect(step, message);
        if (step.dropped) return;
      }
      step.sequencer.flush();
      step.properties = { ...runner.properties };
      step.outcome = outcome;
      log(`step ${step.id} (build ${step.buildId}): ${describeOutcome(outcome)}`);
      this.#pump(step);
    });
  }

  /** Finds the step's files; what was found and skipped goes to the step's log, for its author. */
  async #collect(step: Step, message: StartStep): Promise<void> {
    const { command } = message;
    try {
      const builderDir = resolve(this.#options.dir, command.builder_dir);
      const cwd = resolveStepCwd(this.#options.dir, command.builder_dir, command.workdir);
      const { files, notes } = await collectFiles(command.collect ?? [], { cwd, builderDir });
      step.files = files;
      for (const note of notes) step.sequencer.write('stderr', Buffer.from(`[shepherd] ${note}\n`));
    } catch (error) {
      step.sequencer.write('stderr', Buffer.from(`[shepherd] cannot collect the step's files: ${(error as Error).message}\n`));
    }
  }

  /** The master stored the step's output up to `seq`. */
  ack(stepId: number, seq: number): void {
    this.#options.spool.ack(stepId, seq);
  }

  /** The master recorded the step as finished: forget it. */
  release(stepId: number): void {
    const step = this.#steps.get(stepId);
    if (!step) return;
    this.#drop(step, 'released by the master while still running');
  }

  /** The master cancels the step: end its process group; the outcome is reported as usual. */
  cancel(stepId: number, reason: string): void {
    const step = this.#steps.get(stepId);
    if (!step?.runner || step.outcome) return;
    this.#options.log(`step ${stepId}: cancelled by the master (${reason})`);
    step.runner.terminate('cancel', `cancelled: ${reason}`);
  }

  /** Kills every running step and forgets everything (the agent is stopping). */
  async stopAll(): Promise<void> {
    const steps = [...this.#steps.values()];
    const running = steps.filter((s) => s.runner && !s.outcome).map((s) => s.runner!);
    for (const step of steps) this.#drop(step, 'the worker agent is stopping');
    await Promise.all(running.map((r) => r.done));
    // Members that ignored SIGTERM but let go of the output pipe.
    for (const runner of running) if (runner.pgid !== null) signalGroup(runner.pgid, 'SIGKILL');
  }

  #drop(step: Step, why: string): void {
    step.dropped = true;
    step.live = false;
    step.sequencer.discard();
    this.#steps.delete(step.id);
    this.#options.spool.drop(step.id);
    if (step.runner && !step.outcome) {
      this.#options.log(`step ${step.id}: ${why}; ending its process group`);
      step.runner.terminate('cancel', why);
    }
    const failure = removeStepDir(step.dir);
    if (failure) this.#options.log(`step ${step.id}: cannot remove its directory: ${failure}`);
  }

  #sendFile(step: Step, file: PlannedFile, link: MasterLink, current: () => boolean): Promise<boolean> {
    return sendFile(step, file, ++this.#lastUploadId, link, current, this.#options.log);
  }

  #needsPump(step: Step): boolean {
    return (
      this.#link !== null &&
      step.live &&
      !step.dropped &&
      (step.sentSeq < step.lastSeq || (step.outcome !== null && (!step.finishedSent || step.filesSent < step.files.length)))
    );
  }

  /** Sends what the current connection has not had yet; at most one loop per step. */
  #pump(step: Step): void {
    if (step.pumping || !this.#needsPump(step)) return;
    step.pumping = true;
    this.#pumpLoop(step, this.#link!)
      .catch((error: unknown) => this.#options.log(`bug: sending output of step ${step.id} failed: ${String(error)}`))
      .finally(() => {
        step.pumping = false;
        // Output produced, or a new connection attached, while the loop ran.
        this.#pump(step);
      });
  }

  async #pumpLoop(step: Step, link: MasterLink): Promise<void> {
    const current = () => this.#link === link && step.live && !step.dropped;
    while (current()) {
      if (step.sentSeq < step.lastSeq) {
        const seq = step.sentSeq + 1;
        let chunk;
        try {
          chunk = await this.#options.spool.read(step.id, seq);
        } catch (error) {
          this.#options.log(`step ${step.id}: cannot read spooled output chunk ${seq}, it is lost: ${(error as Error).message}`);
        }
        if (!current()) return;
        // Absent: acknowledged already (the master has it), nothing to send.
        if (chunk) link.sendOutput({ step_id: step.id, seq, stream: chunk.stream }, chunk.data);
        step.sentSeq = seq;
        if (link.congested) await link.drained();
        continue;
      }
      if (step.outcome && step.filesSent < step.files.length) {
        const file = step.files[step.filesSent]!;
        // Counted before it goes: one cut short by a lost connection is abandoned, not resent.
        step.filesSent++;
        if (!(await this.#sendFile(step, file, link, current))) step.filesSent--;
        continue;
      }
      if (step.outcome && !step.finishedSent) {
        link.sendControl({ type: 'step_finished', step_id: step.id, last_seq: step.lastSeq, outcome: step.outcome, properties: step.properties });
        step.finishedSent = true;
      }
      return;
    }
  }
}

/**
 * Sends one planned file: announced as skipped, or begin, its bytes in order,
 * end. False when the connection was gone before anything of it went out.
 */
async function sendFile(
  step: { id: number },
  file: PlannedFile,
  uploadId: number,
  link: MasterLink,
  current: () => boolean,
  log: Logger,
): Promise<boolean> {
  const { kind, name, size } = file;
  if (file.skip) {
    link.sendControl({ type: 'upload_skipped', step_id: step.id, kind, name, size, reason: file.skip });
    return true;
  }
  let handle;
  try {
    handle = await open(file.path, 'r');
  } catch (error) {
    if (!current()) return false;
    // Gone since it was found: say so rather than send nothing.
    link.sendControl({ type: 'upload_skipped', step_id: step.id, kind, name, size, reason: `cannot read it: ${(error as Error).message}` });
    return true;
  }
  try {
    if (!current()) return false;
    link.sendControl({ type: 'upload_begin', step_id: step.id, upload_id: uploadId, kind, name, size });
    let offset = 0;
    let failed: string | undefined;
    while (offset < size) {
      const buffer = Buffer.allocUnsafe(Math.min(MAX_OUTPUT_CHUNK_BYTES, size - offset));
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(buffer, 0, buffer.length, offset));
      } catch (error) {
        failed = `cannot read it: ${(error as Error).message}`;
        break;
      }
      if (n === 0) {
        failed = `it shrank from ${size} to ${offset} bytes while it was sent`;
        break;
      }
      if (!current()) {
        log(`step ${step.id}: connection lost while sending ${kind} ${name}; it is abandoned`);
        return true;
      }
      link.sendUpload({ kind: 'upload', upload_id: uploadId, offset }, buffer.subarray(0, n));
      offset += n;
      if (link.congested) await link.drained();
    }
    if (current()) link.sendControl({ type: 'upload_end', step_id: step.id, upload_id: uploadId, ...(failed ? { failed } : {}) });
    else log(`step ${step.id}: connection lost while sending ${kind} ${name}; it is abandoned`);
    return true;
  } finally {
    await handle.close().catch(() => {});
  }
}

/** `exit 0 after 3.2s`, `killed by SIGTERM after 20m (timeout)`, `could not start: ...`. */
function describeOutcome(outcome: StepOutcome): string {
  if (outcome.spawn_error) return `could not start: ${outcome.spawn_error}`;
  const how = outcome.signal ? `killed by ${outcome.signal}` : `exit ${outcome.exit_code}`;
  return `${how} after ${formatDuration(outcome.duration_ms)}${outcome.ended_by ? ` (${outcome.ended_by})` : ''}`;
}
