import { describe, expect, it } from 'vitest';
import type { HealthJson } from '../api/schemas.js';
import { digestMail, suspectMail } from './digest.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 30, 8); // Monday 2026-11-30 08:00 UTC
const URL = 'https://ci.example.org/';

const allWell: HealthJson = {
  score: 100,
  platforms: [{ name: 'linux', tier: 1, score: 100, live: 2, redundancy: 2, short: false }],
  red_builders: [],
  stale_builders: [],
  suspect_workers: [],
  missing_workers: [],
  worker_states: { building: 0, idle: 2, paused: 0, offline: 0, missing: 0, orphaned: 0 },
  attention: [],
  queue_waits: [],
};

const suspect: HealthJson['suspect_workers'][number] = {
  worker: 'w2',
  count: 2,
  since: NOW - 3 * DAY,
  evidence: [
    { builder: 'unix', revision: 'abcdef0123456789abcdef0123456789abcdef01', failed_at: NOW - 3 * DAY, failed_build_id: 11, passed_on: 'w1', passed_build_id: 12 },
    { builder: 'unix', revision: 'v2', failed_at: NOW - DAY, failed_build_id: 21, passed_on: 'w3', passed_build_id: 22 },
  ],
};

const troubled: HealthJson = {
  ...allWell,
  score: 41,
  platforms: [
    { name: 'mac', tier: 2, score: 0, live: 0, redundancy: 1, short: true },
    { name: 'linux', tier: 1, score: 50, live: 1, redundancy: 2, short: true },
    { name: 'bsd', tier: 3, score: 100, live: 1, redundancy: 1, short: false },
  ],
  red_builders: [
    { builder: 'docs', count: 1, since: NOW - 8 * DAY, first_failing_build_id: 40 },
    { builder: 'unix', count: 9, since: NOW - 20 * DAY, first_failing_build_id: 7 },
  ],
  suspect_workers: [suspect],
  missing_workers: [
    { name: 'w5', state: 'missing', since: NOW - 2 * HOUR, admins: ['Ada <ada@example.org>'] },
    { name: 'w4', state: 'orphaned', since: NOW - 15 * DAY, admins: [] },
  ],
};

describe('digestMail', () => {
  it('says all well when nothing pulls the farm down', () => {
    const mail = digestMail(allWell, NOW, URL);
    expect(mail.subject).toBe('[shepherd] Weekly digest: farm health 100/100, all well');
    expect(mail.text).toContain('Farm health: 100/100 on 2026-11-30 08:00:00 UTC.');
    expect(mail.text).toContain('All well:');
    expect(mail.text).not.toContain('Workers missing');
    expect(mail.text).toContain('https://ci.example.org/api/v1/health');
  });

  it('lists missing workers, short platforms tier 1 first, red builders longest first and suspects with evidence', () => {
    const mail = digestMail(troubled, NOW, URL);
    expect(mail.subject).toBe('[shepherd] Weekly digest: farm health 41/100');
    expect(mail.text).not.toContain('All well');
    const lines = mail.text.split('\n');
    const section = (title: string) => {
      const start = lines.findIndex((l) => l.startsWith(title));
      const end = lines.indexOf('', start);
      return lines.slice(start + 1, end);
    };
    expect(section('Workers missing or orphaned (2)')).toEqual([
      '  - w4: orphaned since 2026-11-15 08:00:00 UTC (15 days); admins: no admin known',
      '  - w5: missing since 2026-11-30 06:00:00 UTC (2 hours); admins: Ada <ada@example.org>',
    ]);
    expect(section('Platforms below redundancy (2)')).toEqual(['  - linux (tier 1): 1 live of 2 wanted', '  - mac (tier 2): 0 live of 1 wanted']);
    expect(section('Builders red longest (2)')).toEqual([
      '  - unix: 9 failing builds in a row since 2026-11-10 08:00:00 UTC (20 days); first failing: https://ci.example.org/builds/7',
      '  - docs: 1 failing build in a row since 2026-11-22 08:00:00 UTC (8 days); first failing: https://ci.example.org/builds/40',
    ]);
    expect(section('Suspect workers (1)')).toEqual([
      '  - w2: 2 cases since 2026-11-27 08:00:00 UTC (3 days)',
      '      unix at abcdef012345: failed https://ci.example.org/builds/11, passed on w1 https://ci.example.org/builds/12',
      '      unix at v2: failed https://ci.example.org/builds/21, passed on w3 https://ci.example.org/builds/22',
    ]);
  });
});

describe('suspectMail', () => {
  it('tells the admins which builds failed that others passed, with both links', () => {
    const mail = suspectMail(suspect, URL);
    expect(mail.subject).toBe('[shepherd] Worker w2 fails builds other workers pass');
    expect(mail.headers).toEqual({ 'X-Shepherd-Worker': 'w2', 'X-Shepherd-Alert': 'suspect' });
    expect(mail.text).toContain('Your worker w2 failed 2 builds since 2026-11-27 08:00:00 UTC');
    expect(mail.text).toContain('  - unix at abcdef012345: failed https://ci.example.org/builds/11, passed on w1 https://ci.example.org/builds/12');
    expect(mail.text).toContain('https://ci.example.org/workers/w2');
  });
});
