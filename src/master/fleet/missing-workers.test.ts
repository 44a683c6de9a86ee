import { describe, expect, it } from 'vitest';
import { decideAlerts, nextDecisionAt } from './missing-workers.js';
import { fleetState } from './presence.js';
import type { FleetAlert, FleetWorker, SentAlert } from './types.js';

// Plain numbers: disconnected at 1000, missing after 100, a reminder every 50, orphaned at 1000 after the disconnection.
const fleet = { remindEvery: 50, orphanAfter: 1000, announce: ['volunteers@example.org'] };
const ADA = 'Ada <ada@example.org>';

const worker = (over: Partial<FleetWorker> = {}): FleetWorker => ({
  name: 'w1',
  admins: [ADA],
  dimensions: { os: 'linux' },
  connected: false,
  building: false,
  paused: false,
  disconnectedAt: 1000,
  missingAfter: 100,
  ...over,
});

/** The ledger after sending `alerts` at `at`. */
const sent = (alerts: FleetAlert[], at: number): SentAlert[] => alerts.map((a) => ({ ...a, sentAt: at }));

/**
 * Runs the decisions at each of `times` as the service would (deciding,
 * then recording all it decided), and returns what was sent when.
 */
function run(w: (now: number) => FleetWorker, times: number[], ledger: SentAlert[] = []): SentAlert[] {
  for (const now of times) ledger.push(...sent(decideAlerts(w(now), ledger, now, fleet), now));
  return ledger;
}

const brief = (ledger: SentAlert[]) => ledger.map((s) => `${s.sentAt} ${s.kind}${s.sequence ? ` ${s.sequence}` : ''} → ${s.to.join(', ')}`);

describe('decideAlerts', () => {
  it('mails the admins once the worker is missing, at exactly missing_after', () => {
    expect(decideAlerts(worker(), [], 1099, fleet)).toEqual([]);
    expect(decideAlerts(worker(), [], 1100, fleet)).toEqual([{ kind: 'missing', worker: 'w1', episode: 1000, sequence: 0, to: [ADA] }]);
  });

  it('never decides again what is in the ledger', () => {
    const ledger = run(() => worker(), [1100, 1101, 1120, 1149]);
    expect(brief(ledger)).toEqual([`1100 missing → ${ADA}`]);
  });

  it('reminds every remind_every after that, then calls for volunteers at orphan_after and stops reminding', () => {
    const ledger = run(() => worker(), [1000, 1100, 1149, 1150, 1180, 1200, 1250, 1950, 1999, 2000, 2050, 3000]);
    expect(brief(ledger)).toEqual([
      `1100 missing → ${ADA}`,
      `1150 reminder 1 → ${ADA}`,
      `1200 reminder 2 → ${ADA}`,
      `1250 reminder 3 → ${ADA}`,
      `1950 reminder 17 → ${ADA}`,
      '2000 orphaned → volunteers@example.org',
    ]);
  });

  it('sends only the latest reminder due after downtime, no catch-up burst', () => {
    const ledger = run(() => worker(), [1100, 1420]);
    expect(brief(ledger)).toEqual([`1100 missing → ${ADA}`, `1420 reminder 6 → ${ADA}`]);
  });

  it('after downtime past everything sends the missing mail and the call, without a reminder in the same breath', () => {
    expect(brief(run(() => worker(), [1500]))).toEqual([`1500 missing → ${ADA}`]);
    expect(brief(run(() => worker(), [2500]))).toEqual([`2500 missing → ${ADA}`, '2500 orphaned → volunteers@example.org']);
  });

  it('tells whoever was told that the worker recovered, once', () => {
    const gone = worker();
    const back = worker({ connected: true, disconnectedAt: null });
    const ledger = run((now) => (now < 3000 ? gone : back), [1100, 1150, 2000, 3000, 3001, 4000]);
    expect(brief(ledger).slice(-1)).toEqual([`3000 recovered → ${ADA}, volunteers@example.org`]);
    expect(ledger.at(-1)).toMatchObject({ episode: 1000, sequence: 0 });
  });

  it('tells only the admins of the recovery when only they were told', () => {
    const ledger = run((now) => (now < 1200 ? worker() : worker({ connected: true, disconnectedAt: null })), [1100, 1200]);
    expect(brief(ledger)).toEqual([`1100 missing → ${ADA}`, `1200 recovered → ${ADA}`]);
  });

  it('recovers an earlier episode when the worker came back and left again in between', () => {
    const ledger = run((now) => (now < 1450 ? worker() : worker({ disconnectedAt: 1400 })), [1100, 1450, 1500]);
    expect(brief(ledger)).toEqual([`1100 missing → ${ADA}`, `1450 recovered → ${ADA}`, `1500 missing → ${ADA}`]);
    expect(ledger.map((s) => s.episode)).toEqual([1000, 1000, 1400]);
  });

  it('raises nothing for a short disconnect', () => {
    const ledger = run((now) => (now < 1090 ? worker() : worker({ connected: true, disconnectedAt: null })), [1000, 1050, 1090, 1200, 5000]);
    expect(ledger).toEqual([]);
  });

  it('raises nothing for a paused worker, missing or back', () => {
    expect(run(() => worker({ paused: true }), [1100, 1500, 2500])).toEqual([]);
    const ledger = sent([{ kind: 'missing', worker: 'w1', episode: 1000, sequence: 0, to: [ADA] }], 1100);
    expect(decideAlerts(worker({ paused: true, connected: true, disconnectedAt: null }), ledger, 1200, fleet)).toEqual([]);
  });

  it("uses the worker's own missing_after", () => {
    const slow = worker({ missingAfter: 400 });
    expect(decideAlerts(slow, [], 1399, fleet)).toEqual([]);
    expect(decideAlerts(slow, [], 1400, fleet).map((a) => a.kind)).toEqual(['missing']);
    // Reminders count from when it became missing.
    expect(brief(run(() => slow, [1400, 1449, 1450]))).toEqual([`1400 missing → ${ADA}`, `1450 reminder 1 → ${ADA}`]);
  });

  it('mails nobody when there is nobody to mail, and dedupes recipients by address', () => {
    expect(decideAlerts(worker({ admins: [] }), [], 1500, fleet)).toEqual([]);
    expect(decideAlerts(worker({ admins: ['not an address'] }), [], 1500, fleet)).toEqual([]);
    const twice = worker({ admins: [ADA, 'ADA@example.org', 'Bob <bob@example.org>'] });
    expect(decideAlerts(twice, [], 1100, fleet)[0]!.to).toEqual([ADA, 'Bob <bob@example.org>']);
    expect(decideAlerts(worker(), [], 2500, { ...fleet, announce: [] }).map((a) => a.kind)).toEqual(['missing']);
  });

  it('never alerts about a worker that was never seen', () => {
    expect(decideAlerts(worker({ disconnectedAt: null }), [], 99_999, fleet)).toEqual([]);
  });
});

describe('nextDecisionAt', () => {
  it('is the next of: missing, the next reminder, orphaned', () => {
    expect(nextDecisionAt(worker(), [], 1000, fleet)).toBe(1100);
    expect(nextDecisionAt(worker(), [], 1100, fleet)).toBe(1150);
    expect(nextDecisionAt(worker(), [], 1420, fleet)).toBe(1450);
    expect(nextDecisionAt(worker(), [], 1950, fleet)).toBe(2000);
    expect(nextDecisionAt(worker(), [], 2000, fleet)).toBeNull();
  });

  it('is null while connected, paused or never seen', () => {
    expect(nextDecisionAt(worker({ connected: true, disconnectedAt: null }), [], 1000, fleet)).toBeNull();
    expect(nextDecisionAt(worker({ paused: true }), [], 1000, fleet)).toBeNull();
    expect(nextDecisionAt(worker({ disconnectedAt: null }), [], 1000, fleet)).toBeNull();
  });
});

describe('maintenance windows', () => {
  // Hours from the epoch: a window every day at 02:00 UTC for three hours; missing after an hour.
  const H = 3_600_000;
  const hourly = { remindEvery: H, orphanAfter: 10 * H, announce: ['volunteers@example.org'] };
  const maintained = (disconnectedAt: number): FleetWorker & { maintenance: { cron: string; duration: number }[] } => ({
    ...worker({ disconnectedAt, missingAfter: H }),
    maintenance: [{ cron: '0 2 * * *', duration: 3 * H }],
  });
  const runIn = (w: FleetWorker, times: number[]): SentAlert[] => {
    const ledger: SentAlert[] = [];
    for (const now of times) ledger.push(...sent(decideAlerts(w, ledger, now, hourly), now));
    return ledger;
  };
  const hours = (ledger: SentAlert[]) => ledger.map((s) => `${s.sentAt / H}h ${s.kind}${s.sequence ? ` ${s.sequence}` : ''}`);

  it('a worker that left just before the window counts as gone only from its end', () => {
    const ledger = runIn(maintained(1.5 * H), [2.5 * H, 3 * H, 4.9 * H, 5 * H, 5.9 * H, 6 * H, 7 * H, 14 * H, 15 * H]);
    expect(hours(ledger)).toEqual(['6h missing', '7h reminder 1', '14h reminder 8', '15h orphaned']);
    expect(ledger.every((s) => s.episode === 1.5 * H)).toBe(true);
  });

  it('holds the reminders of a worker already missing while the window lasts, without restarting its count', () => {
    const ledger = runIn(maintained(0), [H, 2 * H, 3 * H, 4.5 * H, 5 * H, 6 * H, 10 * H]);
    expect(hours(ledger)).toEqual(['1h missing', '5h reminder 4', '6h reminder 5', '10h orphaned']);
  });

  it('sends no call for volunteers during a window: it goes out when the window ends', () => {
    // Gone at -8h (the window before that had long closed), so orphaned at 2h: inside the 02:00 window.
    expect(hours(runIn(maintained(-8 * H), [1 * H, 2.5 * H, 5 * H]))).toEqual(['1h missing', '5h orphaned']);
  });

  it('keeps the state offline while the absence is excused', () => {
    expect(fleetState(maintained(1.5 * H), 2.5 * H, hourly)).toBe('offline');
    expect(fleetState(maintained(1.5 * H), 6 * H, hourly)).toBe('missing');
    expect(fleetState(maintained(1.5 * H), 15 * H, hourly)).toBe('orphaned');
    expect(fleetState(maintained(0), 3 * H, hourly)).toBe('missing');
  });

  it('wakes when a window opens and when it closes', () => {
    expect(nextDecisionAt(maintained(1.5 * H), [], 1.6 * H, hourly)).toBe(2 * H);
    expect(nextDecisionAt(maintained(1.5 * H), [], 2 * H, hourly)).toBe(5 * H);
    expect(nextDecisionAt(maintained(1.5 * H), [], 5 * H, hourly)).toBe(6 * H);
  });
});

describe('the ledger holds other mail too', () => {
  it('a suspect-worker or digest mail in the ledger is not an absence to recover from', () => {
    const worker = { name: 'w1', admins: ['Bob <bob@example.org>'], dimensions: {}, connected: true, building: false, paused: false, disconnectedAt: null, missingAfter: 60_000 };
    const sent = [
      { kind: 'suspect' as const, worker: 'w1', episode: 1000, sequence: 0, to: ['bob@example.org'], sentAt: 2000 },
      { kind: 'digest' as const, worker: '*', episode: 1000, sequence: 0, to: ['all@example.org'], sentAt: 2000 },
    ];
    expect(decideAlerts(worker, sent, 10_000, { remindEvery: 86_400_000, orphanAfter: 14 * 86_400_000, announce: ['all@example.org'] })).toEqual([]);
  });
});
