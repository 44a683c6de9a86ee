import { describe, expect, it } from 'vitest';
import type { WorkerJson } from '../master/api/schemas.js';
import { formatShare, formatWorkersTable } from './worker-table.js';

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
    const never: WorkerJson = { ...offline, name: 'bsd', last_seen: null, dimensions: {} };
    expect(formatWorkersTable([base, offline, never], t0).split('\n')).toEqual([
      'NAME     STATE     BUILDS  OS/ARCH        ADMIN                  LAST SEEN  UPTIME 7D',
      'linux-1  building  1/2     linux/aarch64  Ann <ann@example.org>  now        99%',
      'mac-1    offline   0/2     macos/?                               5m ago     25%',
      'bsd      offline   0/2     ?/?                                   never      -',
      '',
    ]);
  });
});

describe('formatShare', () => {
  it('rounds to a whole percentage but says 100% only when it is', () => {
    expect([0, 0.004, 0.5, 0.994, 0.996, 1].map(formatShare)).toEqual(['0%', '0%', '50%', '99%', '99%', '100%']);
  });
});
