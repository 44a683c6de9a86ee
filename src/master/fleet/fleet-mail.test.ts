import { describe, expect, it } from 'vitest';
import { fleetMail, humanDuration, utcTime, workerAddress, type FleetMailContext } from './fleet-mail.js';
import type { FleetAlert, PlatformCoverage } from './types.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const linux: PlatformCoverage = {
  name: 'linux-x86_64',
  tier: 1,
  redundancy: 2,
  select: { os: 'linux', arch: 'x86_64' },
  workers: ['w1', 'w2'],
  live: ['w2'],
  builders: ['unix', 'docs'],
  short: true,
};
const context: FleetMailContext = {
  worker: { name: 'w1', dimensions: { os: 'linux', arch: 'x86_64' }, admins: ['Ada <ada@example.org>'] },
  now: T0 + 2 * DAY + 3 * 3_600_000,
  publicUrl: 'https://ci.example.org/',
  builders: ['unix', 'docs'],
  shortBuilders: ['unix'],
  platforms: [linux],
  notes: 'In the basement at the lab',
};
const alert = (kind: FleetAlert['kind'], to = ['Ada <ada@example.org>'], sequence = 0): FleetAlert => ({ kind, worker: 'w1', episode: T0, sequence, to });

describe('fleet mail', () => {
  it('says which worker is missing, since when, what is short and how to restart it', () => {
    const mail = fleetMail(alert('missing'), context);
    expect(mail.to).toEqual(['Ada <ada@example.org>']);
    expect(mail.subject).toBe('[shepherd] worker w1 is missing');
    expect(mail.text).toContain('since 2026-11-01 12:00:00 UTC (2 days 3 hours)');
    expect(mail.text).toContain('Dimensions: arch=x86_64, os=linux');
    expect(mail.text).toContain('Builders with no live worker now: unix.');
    expect(mail.text).toContain('linux-x86_64 (tier 1): 1 live of 2 wanted');
    expect(mail.text).toContain('node shepherd-worker.mjs --master wss://ci.example.org --name w1');
    expect(mail.text).toContain('shepherd worker --master wss://ci.example.org --name w1');
    expect(mail.text).toContain('https://ci.example.org/workers/w1');
    expect(mail.headers).toMatchObject({ 'X-Shepherd-Worker': 'w1', 'X-Shepherd-Alert': 'missing' });
  });

  it('numbers reminders', () => {
    const mail = fleetMail(alert('reminder', undefined, 3), context);
    expect(mail.subject).toBe('[shepherd] reminder 3: worker w1 is still missing');
    expect(mail.headers?.['X-Shepherd-Alert']).toBe('reminder-3');
  });

  it('calls for volunteers with the platform, its dimensions and how to offer a machine', () => {
    const mail = fleetMail(alert('orphaned', ['volunteers@example.org']), context);
    expect(mail.subject).toBe('[shepherd] volunteers wanted: worker w1 is orphaned');
    expect(mail.text).toContain('linux-x86_64 (tier 1)');
    expect(mail.text).toContain('Dimensions: arch=x86_64, os=linux');
    expect(mail.text).toContain('Builders with no live worker now: unix.');
    expect(mail.text).toContain('Notes: In the basement at the lab');
    expect(mail.text).toContain('To offer a machine');
  });

  it('says it is back and how long it was away', () => {
    const mail = fleetMail(alert('recovered', ['Ada <ada@example.org>', 'volunteers@example.org']), context);
    expect(mail.subject).toBe('[shepherd] worker w1 is back');
    expect(mail.to).toEqual(['Ada <ada@example.org>', 'volunteers@example.org']);
    expect(mail.text).toContain('after being away 2 days 3 hours');
  });

  it('formats times and durations for people', () => {
    expect(humanDuration(0)).toBe('less than a second');
    expect(humanDuration(1000)).toBe('1 second');
    expect(humanDuration(90_000)).toBe('1 minute 30 seconds');
    expect(humanDuration(14 * DAY + 5000)).toBe('14 days 5 seconds');
    expect(utcTime(T0)).toBe('2026-11-01 12:00:00 UTC');
    expect(workerAddress('http://127.0.0.1:8010')).toBe('ws://127.0.0.1:8010');
  });
});
