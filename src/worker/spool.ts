/**
 * Output the master has not acknowledged yet, kept so it can be resent after
 * a reconnect.
 *
 * While the master is away a build keeps printing, so this can grow without
 * bound: chunks stay in memory up to a budget shared by all steps, and
 * beyond it each chunk goes to its own file under `<dir>/.shepherd/spool/
 * <step>/<seq>` until the master acknowledges it. Chunks arrive in sequence
 * order and are acknowledged as a prefix, which keeps the bookkeeping to a
 * map per step.
 */
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OutputStream } from './output-sequencer.js';

/** One unacknowledged chunk's bytes. */
export interface SpooledChunk {
  stream: OutputStream;
  data: Buffer;
}

interface Entry {
  stream: OutputStream;
  size: number;
  /** Null when the bytes are in the chunk's file. */
  data: Buffer | null;
}

interface StepSpool {
  entries: Map<number, Entry>;
  /** Lowest sequence number that may still be held. */
  low: number;
  dirMade: boolean;
}

/** Options for the spool. */
export interface SpoolOptions {
  /** The spool directory, e.g. `<dir>/.shepherd/spool`. */
  dir: string;
  /** Bytes of chunk data kept in memory across all steps before spilling to disk. */
  memoryLimitBytes: number;
}

/** The agent's store of unacknowledged output, in memory then on disk. */
export class Spool {
  readonly #dir: string;
  readonly #limit: number;
  readonly #steps = new Map<number, StepSpool>();
  #memoryBytes = 0;
  #diskBytes = 0;

  constructor({ dir, memoryLimitBytes }: SpoolOptions) {
    this.#dir = dir;
    this.#limit = memoryLimitBytes;
  }

  /** Bytes held in memory now. */
  get memoryBytes(): number {
    return this.#memoryBytes;
  }

  /** Bytes held in spool files now. */
  get diskBytes(): number {
    return this.#diskBytes;
  }

  /** Removes whatever an earlier agent process left in the spool directory. */
  reset(): void {
    rmSync(this.#dir, { recursive: true, force: true });
    this.#steps.clear();
    this.#memoryBytes = 0;
    this.#diskBytes = 0;
  }

  /** Keeps chunk `seq` of a step; sequence numbers must come in order. */
  append(stepId: number, seq: number, stream: OutputStream, data: Buffer): void {
    let step = this.#steps.get(stepId);
    if (!step) {
      step = { entries: new Map(), low: seq, dirMade: false };
      this.#steps.set(stepId, step);
    }
    if (this.#memoryBytes + data.length <= this.#limit) {
      step.entries.set(seq, { stream, size: data.length, data });
      this.#memoryBytes += data.length;
      return;
    }
    if (!step.dirMade) {
      mkdirSync(this.#stepDir(stepId), { recursive: true });
      step.dirMade = true;
    }
    // Synchronous on purpose: a read for resending may follow at once, and a
    // 64 KiB write is cheap next to the build that produced it.
    writeFileSync(this.#file(stepId, seq), data);
    step.entries.set(seq, { stream, size: data.length, data: null });
    this.#diskBytes += data.length;
  }

  /** Whether chunk `seq` of the step is still held (not acknowledged, not dropped). */
  has(stepId: number, seq: number): boolean {
    return this.#steps.get(stepId)?.entries.has(seq) ?? false;
  }

  /**
   * The bytes of chunk `seq`, from memory or from its file; undefined when
   * the chunk is not held (acknowledged meanwhile).
   */
  async read(stepId: number, seq: number): Promise<SpooledChunk | undefined> {
    const entry = this.#steps.get(stepId)?.entries.get(seq);
    if (!entry) return undefined;
    if (entry.data) return { stream: entry.stream, data: entry.data };
    try {
      return { stream: entry.stream, data: await readFile(this.#file(stepId, seq)) };
    } catch (error) {
      // Acknowledged (and unlinked) while the read was in flight: nothing is lost.
      if (!this.has(stepId, seq)) return undefined;
      throw error;
    }
  }

  /** The master stored the step's output up to `seq`: forget those chunks. */
  ack(stepId: number, seq: number): void {
    const step = this.#steps.get(stepId);
    if (!step) return;
    for (; step.low <= seq && step.entries.size > 0; step.low++) {
      const entry = step.entries.get(step.low);
      if (!entry) continue;
      step.entries.delete(step.low);
      this.#forget(stepId, step.low, entry);
    }
  }

  /** Forgets everything of the step (released, or no longer wanted). */
  drop(stepId: number): void {
    const step = this.#steps.get(stepId);
    if (!step) return;
    for (const [seq, entry] of step.entries) this.#forget(stepId, seq, entry, false);
    this.#steps.delete(stepId);
    if (step.dirMade) rmSync(this.#stepDir(stepId), { recursive: true, force: true });
  }

  #forget(stepId: number, seq: number, entry: Entry, unlink = true): void {
    if (entry.data) {
      this.#memoryBytes -= entry.size;
      return;
    }
    this.#diskBytes -= entry.size;
    if (!unlink) return;
    try {
      unlinkSync(this.#file(stepId, seq));
    } catch {
      // Already gone (someone cleaned the spool by hand): the goal is reached.
    }
  }

  #stepDir(stepId: number): string {
    return join(this.#dir, String(stepId));
  }

  #file(stepId: number, seq: number): string {
    return join(this.#dir, String(stepId), String(seq));
  }
}
