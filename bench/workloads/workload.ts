/**
 * What a workload is to the runner: an id (`w1`...), a title, and a run that
 * returns its figures. Each workload starts and stops its own farm, and
 * cleans up even when it fails.
 */
import type { MasterLaunch } from '../harness/farm.js';

/** One measured figure. `key` is its name under the workload in the JSON output. */
export interface Figure {
  key: string;
  label: string;
  value: number;
  unit: string;
  /** Decimal places shown in the readable report. */
  digits: number;
  /** How it was measured, shown after the value. */
  note?: string;
}

/** What a run of a workload found. */
export interface WorkloadResult {
  figures: Figure[];
  /** Extra lines for the readable report (how it was run, what was checked). */
  notes: string[];
}

/** What every workload gets from the runner. */
export interface WorkloadContext {
  launch: MasterLaunch;
  /** Progress for a human, on stderr. */
  progress(message: string): void;
  /** Names a measured phase by its monotonic start and end (`monotonicUs()`), so a profile can be cut to it. */
  phase(name: string, startUs: number, endUs: number): void;
}

/** Now on the monotonic clock V8's CPU profiles use for their timestamps, in microseconds. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** A benchmark workload. */
export interface Workload {
  id: string;
  title: string;
  run(context: WorkloadContext): Promise<WorkloadResult>;
}

/** Shorthand for a figure. */
export function figure(key: string, label: string, value: number, unit: string, digits: number, note?: string): Figure {
  return { key, label, value, unit, digits, ...(note ? { note } : {}) };
}
