import { describe, expect, it } from 'vitest';
import type { RetiredWorkerJson, WorkerJson } from '../master/api/schemas.js';
import { formatMaintenance, formatRetiredTable, formatShare, formatWindowDuration, formatWorkersTable } from './worker-table.js';

const t0 = new Date(2024, 0, 2, 3, 4, 5).getTime();

describe('worker table', () => {
  it('shows state, load, platform, admin and when last seen', () => {
    const base: WorkerJson = {
      name: 'linux-1',
      dimensions: { os: 'linux', arch: 'x86_64' },
      max_builds: 2,
      state: 'building',
      connected: true,
      builds: [4],
      info: { os: 'linux', arch: 'aarch64', admin: 'Ann <ann@example.org>' },
      protocol: 'shepherd',
      connected_at: t0,
      last_seen: t0,
      admins: [],
      admin_mismatch: false,
      notes: null,
      paused: null,
      uptime: { d7: 0.9996, d30: 0.5 },
      builds_run: 12,
      source: 'config',
      instance: null,
      maintenance: [],
    };
    const offline: WorkerJson = {
      ...base,
      name: 'mac-1',
      state: 'offline',
      connected: false,
      builds: [],
      info: null,
      last_seen: t0 - 300_000,
      dimensions: { os: 'macos' },
      uptime: { d7: 0.25, d30: 0.1 },
    };
    const never: WorkerJson = {
      ...offline,
      name: 'bsd',
      last_seen: null,
      dimensions: {},
      source: 'registered',
      instance: null,
      maintenance: [
        { cron: '0 2 * * 0', duration_ms: 3 * 3_600_000, from: 'admin' },
        { cron: '*/30 * * * *', duration_ms: 90_000, from: 'agent' },
      ],
    };
    expect(formatWorkersTable([base, offline, never], t0).split('\n')).toEqual([
      'NAME     STATE     BUILDS  OS/ARCH        ADMIN                  LAST SEEN  UPTIME 7D  SOURCE      MAINTENANCE',
      'linux-1  building  1/2     linux/aarch64  Ann <ann@example.org>  now        99%        config',
      'mac-1    offline   0/2     macos/?                               5m ago     25%        config',
      'bsd      offline   0/2     ?/?                                   never      -          registered  0 2 * * 0/3h, */30 * * * */90s',
      '',
    ]);
    expect(formatMaintenance(never)).toBe(
      'bsd: maintenance windows (cron in UTC / duration):\n' +
        '  0 2 * * 0/3h  (set by its admin)\n' +
        "  */30 * * * */90s  (from the agent's config)\n",
    );
    expect(formatMaintenance(base)).toBe('linux-1: no maintenance windows\n');
  });

  it("shows an on-demand instance's pool, state, age and cost in place of its source", () => {
    const instance: WorkerJson = {
      name: 'cloud-1',
      dimensions: { os: 'linux' },
      max_builds: 1,
      state: 'idle',
      connected: true,
      builds: [],
      info: { os: 'linux', arch: 'x86_64' },
      protocol: 'shepherd',
      connected_at: t0 - 600_000,
      last_seen: t0,
      admins: [],
      admin_mismatch: false,
      notes: null,
      paused: null,
      uptime: { d7: 0.01, d30: 0 },
      builds_run: 2,
      source: 'latent',
      instance: {
        id: 3,
        name: 'cloud-1',
        pool: 'cloud',
        provider: 'local',
        provider_id: '/tmp/x',
        state: 'idle',
        started_at: t0 - 12 * 60_000 - 5000,
        connected_at: t0 - 600_000,
        stopped_at: null,
        builds: 2,
        reason: null,
        cost: 0.0249,
      },
      maintenance: [],
    };
    expect(formatWorkersTable([instance], t0).split('\n')[1]).toBe('cloud-1  idle   0/1     linux/x86_64         now        1%         on-demand cloud: idle, 12m, 0.02');
  });
});

describe('formatWindowDuration', () => {
  it('writes a duration as a config file would, in the largest exact unit', () => {
    expect([86_400_000, 3 * 3_600_000, 90 * 60_000, 90_000, 1500].map(formatWindowDuration)).toEqual(['1d', '3h', '90m', '90s', '1500ms']);
  });
});

describe('retired workers table', () => {
  it('shows when and by whom each was retired, and the builds it ran', () => {
    const retired: RetiredWorkerJson = {
      name: 'lx-old',
      dimensions: { os: 'linux', arch: 'x86_64' },
      admins: ['Ada <ada@example.org>'],
      application_id: 3,
      created_at: t0 - 30 * 86_400_000,
      retired_at: t0 - 2 * 86_400_000,
      retired_by: 'ops',
      builds_run: 41,
    };
    expect(formatRetiredTable([retired, { ...retired, name: 'lx-older', retired_by: null, builds_run: 0 }], t0).split('\n')).toEqual([
      'NAME      RETIRED  BY   BUILDS RUN  DIMENSIONS            ADMINS                 APPLICATION',
      'lx-old    2d ago   ops  41          os=linux arch=x86_64  Ada <ada@example.org>  3',
      'lx-older  2d ago        0           os=linux arch=x86_64  Ada <ada@example.org>  3',
      '',
    ]);
    expect(formatRetiredTable([], t0)).toBe('no retired workers\n');
  });
});

describe('formatShare', () => {
  it('rounds to a whole percentage but says 100% only when it is', () => {
    expect([0, 0.004, 0.5, 0.994, 0.996, 1].map(formatShare)).toEqual(['0%', '0%', '50%', '99%', '99%', '100%']);
  });
});
