/**
 * The farm simulator: six weeks of a 60-worker, 100-builder farm with
 * injected faults and healthy noise, driven through the master's real
 * decision functions. Every fault must reach the right people within its
 * threshold; the noise must raise nothing. The report is printed.
 */
import { describe, expect, it } from 'vitest';
import { createFarm, DAY } from '../src/master/fleet/simulator/farm.js';
import { formatReport } from '../src/master/fleet/simulator/report.js';
import { standardScenario } from '../src/master/fleet/simulator/scenario.js';
import { simulate, type SimulationReport } from '../src/master/fleet/simulator/simulate.js';

const SEED = 20260105;
const scenario = standardScenario(createFarm(SEED), SEED);
const settings = scenario.farm.settings;
const begun = performance.now();
const report: SimulationReport = simulate(scenario, SEED);
const elapsed = performance.now() - begun;
console.log(formatReport(report, elapsed));

const alertsOf = (kind: string, subject: string) => report.alerts.filter((a) => a.kind === kind && a.subject === subject);

describe('farm simulator: six weeks, 60 workers, 100 builders', () => {
  it('models the farm it claims to, and every builder can be run by some worker', () => {
    expect(report.farm).toMatchObject({ workers: 60, builders: 100, uncoverable: [] });
    expect(report.stats.builds).toBeGreaterThan(10_000);
  });

  it.each(report.results.map((r) => [`${r.fault}: ${r.what}`, r] as const))('%s: detected within its threshold, told the right people', (_name, r) => {
    expect(r.delay, 'not detected').not.toBeNull();
    expect(r.delay!).toBeLessThanOrEqual(r.within);
    expect([...r.told].sort()).toEqual([...r.expectedTo].sort());
  });

  it('sends the missing mail at exactly missing_after, reminders exactly every remind_every until orphaned, and nothing twice', () => {
    const fault = scenario.faults.find((f) => f.name === 'admin never answers')!;
    const worker = fault.subjects[0]!;
    const down = scenario.start + fault.injectedAt;
    const missingAt = down + 30 * 60_000;
    expect(alertsOf('missing', worker).map((a) => a.at)).toEqual([missingAt]);
    const reminders = alertsOf('reminder', worker);
    expect(reminders.map((a) => a.sequence)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    reminders.forEach((a, i) => expect(a.at).toBe(missingAt + (i + 1) * settings.remindEvery));
    expect(alertsOf('orphaned', worker).map((a) => a.at)).toEqual([down + settings.orphanAfter]);
    expect(alertsOf('recovered', worker)).toEqual([]);
  });

  it('flags the red builder once for its two-week streak, not once per failing build', () => {
    const builder = scenario.faults.find((f) => f.name === 'builder red for two weeks')!.subjects[0]!;
    expect(alertsOf('red_for_long', builder)).toHaveLength(1);
  });

  it('mails the recovery only to those told the worker was missing', () => {
    const worker = scenario.faults.find((f) => f.name === 'worker dies, admin repairs it')!.subjects[0]!;
    const told = alertsOf('missing', worker)[0]!.to;
    expect(alertsOf('recovered', worker).map((a) => a.to)).toEqual([told]);
    expect(alertsOf('orphaned', worker)).toEqual([]);
  });

  it('raises nothing for the noise: short disconnects, one-off failures, a weekend pause, master restarts', () => {
    expect(report.noiseAlerts).toEqual([]);
  });

  it('is deterministic for a seed', () => {
    const again = simulate(standardScenario(createFarm(SEED), SEED), SEED);
    expect(again.alerts).toEqual(report.alerts);
    expect(again.stats).toEqual(report.stats);
    expect(report.duration).toBe(42 * DAY);
  });

  it('has teeth: the weekend power-off without the pause is reported as a missing worker (noise check is not vacuous)', () => {
    const base = standardScenario(createFarm(SEED), SEED);
    const unpaused = {
      ...base,
      noise: base.noise.map((n) => ({ ...n, injections: n.injections.filter((i) => i.kind !== 'pause' && i.kind !== 'resume') })),
    };
    const kinds = simulate(unpaused, SEED).noiseAlerts.map((a) => `${a.kind} ${a.subject}`);
    expect(kinds).toContain('missing linux-x86_64-03');
    expect(kinds).toContain('recovered linux-x86_64-03');
  });

  it.each([1, 2, 3])('finds every fault and no false alarm with seed %i too (another farm, other noise)', (seed) => {
    const other = simulate(standardScenario(createFarm(seed), seed), seed);
    expect(other.results.filter((r) => !r.ok)).toEqual([]);
    expect(other.noiseAlerts).toEqual([]);
  });
});
