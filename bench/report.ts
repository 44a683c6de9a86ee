/**
 * The targets the figures are held to, Buildbot's figures for context, and
 * the two renderings of a run: a readable report and one JSON object.
 */
import { cpus, loadavg } from 'node:os';
import type { Figure, WorkloadResult } from './workloads/workload.js';

/** A target: figure `path` (`w1.master_cpu_ms_per_step`) compared with `limit`. */
export interface Target {
  path: string;
  op: '<=' | '<';
  limit: number;
  unit: string;
}

/** The figures' targets, printed next to them (pass/MISS). */
export const TARGETS: readonly Target[] = [
  { path: 'w1.master_cpu_ms_per_step', op: '<=', limit: 0.5, unit: 'ms' },
  { path: 'w1.ratio_to_direct', op: '<=', limit: 3, unit: 'x' },
  { path: 'w2.ratio_to_direct', op: '<=', limit: 3, unit: 'x' },
  { path: 'w3.rss_kb_per_worker', op: '<=', limit: 25, unit: 'KB' },
  { path: 'w3.idle_cpu_pct', op: '<', limit: 2, unit: '%' },
  { path: 'w4.p50_ms', op: '<', limit: 50, unit: 'ms' },
  { path: 'w5.grid_p50_ms', op: '<', limit: 200, unit: 'ms' },
];

/** Buildbot 3.7, measured on the same machine, for context (not targets). */
export const BUILDBOT_REFERENCE: Readonly<Record<string, string>> = {
  'w1.master_cpu_ms_per_step': '~82 ms',
  'w2.ratio_to_direct': '~90x',
  'w3.rss_kb_per_worker': '~45 KB',
  'w4.p50_ms': '~0.5 s, from starting its change-sending client',
};

/** How one workload went. */
export type WorkloadOutcome =
  | { id: string; title: string; ok: true; seconds: number; result: WorkloadResult }
  | { id: string; title: string; ok: false; seconds: number; error: string };

function passes(target: Target, value: number): boolean {
  return target.op === '<=' ? value <= target.limit : value < target.limit;
}

function figureValue(outcomes: readonly WorkloadOutcome[], path: string): number | undefined {
  const [id, key] = path.split('.');
  const outcome = outcomes.find((o) => o.id === id);
  if (!outcome?.ok) return undefined;
  return outcome.result.figures.find((f) => f.key === key)?.value;
}

function round(value: number, digits: number): number {
  const factor = 10 ** Math.max(digits, 3);
  return Math.round(value * factor) / factor;
}

function formatValue(f: Figure): string {
  const number = f.value.toLocaleString('en-US', { minimumFractionDigits: f.digits, maximumFractionDigits: f.digits });
  if (!f.unit) return number;
  return f.unit === 'x' || f.unit === '%' ? `${number}${f.unit}` : `${number} ${f.unit}`;
}

/** Facts about where the run happened. */
export function machine(): Record<string, string | number> {
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    // Other work on the machine skews every figure; the 1-minute load average before the run says how busy it was.
    load_avg_1m: Math.round(loadavg()[0]! * 100) / 100,
  };
}

/** The readable report. */
export function renderText(outcomes: readonly WorkloadOutcome[], meta: Record<string, string | number>): string {
  const lines: string[] = [];
  lines.push(
    `Shepherd benchmark: node ${meta.node}, ${meta.platform}, ${meta.cpus} CPUs (${meta.cpu_model}), ` +
      `load average ${meta.load_avg_1m} before the run, CPU time counted in ${meta.clock_tick_ms} ms ticks`,
  );
  for (const outcome of outcomes) {
    lines.push('', `${outcome.id.toUpperCase()}  ${outcome.title}   (${outcome.seconds.toFixed(0)} s)`);
    if (!outcome.ok) {
      lines.push(`    FAILED: ${outcome.error}`);
      continue;
    }
    for (const note of outcome.result.notes) lines.push(`    ${note}`);
    const width = Math.max(...outcome.result.figures.map((f) => f.label.length));
    for (const f of outcome.result.figures) {
      const path = `${outcome.id}.${f.key}`;
      const target = TARGETS.find((t) => t.path === path);
      const extras: string[] = [];
      if (target) extras.push(`target ${target.op} ${target.limit}${target.unit === 'x' || target.unit === '%' ? target.unit : ` ${target.unit}`}: ${passes(target, f.value) ? 'pass' : 'MISS'}`);
      if (BUILDBOT_REFERENCE[path]) extras.push(`Buildbot 3.7: ${BUILDBOT_REFERENCE[path]}`);
      if (f.note) extras.push(f.note);
      lines.push(`    ${f.label.padEnd(width)}  ${formatValue(f).padStart(12)}${extras.length ? `   ${extras.join('; ')}` : ''}`);
    }
  }
  const checked = TARGETS.map((t) => ({ t, value: figureValue(outcomes, t.path) })).filter((c) => c.value !== undefined);
  if (checked.length) {
    lines.push('', 'Targets:');
    for (const { t, value } of checked) {
      lines.push(`    ${passes(t, value!) ? 'pass' : 'MISS'}  ${t.path} = ${round(value!, 3)} (target ${t.op} ${t.limit})`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The one JSON object: `{ meta, w1: { steps_per_s, ... }, ..., targets, ok }`. */
export function renderJson(outcomes: readonly WorkloadOutcome[], meta: Record<string, string | number>): string {
  const json: Record<string, unknown> = { meta };
  for (const outcome of outcomes) {
    json[outcome.id] = outcome.ok
      ? Object.fromEntries(outcome.result.figures.map((f) => [f.key, round(f.value, f.digits)]))
      : { error: outcome.error };
  }
  const targets: Record<string, unknown> = {};
  for (const t of TARGETS) {
    const value = figureValue(outcomes, t.path);
    if (value === undefined) continue;
    targets[t.path] = { target: `${t.op} ${t.limit}`, pass: passes(t, value), ...(BUILDBOT_REFERENCE[t.path] ? { buildbot_3_7: BUILDBOT_REFERENCE[t.path] } : {}) };
  }
  json.targets = targets;
  json.ok = outcomes.every((o) => o.ok);
  // One line, so that `npm run bench -- --json | tail -n 1` parses even after npm's banners.
  return `${JSON.stringify(json)}\n`;
}
