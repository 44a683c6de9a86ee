import { describe, expect, it } from 'vitest';
import type { WorkerJson } from '../master/api/schemas.js';
import { formatWorkersTable } from './worker-table.js';

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
    };
    const never: WorkerJson = { ...offline, name: 'bsd', last_seen: null, dimensions: {} };
    expect(formatWorkersTable([base, offline, never], t0).split('\n')).toEqual([
      'NAME     STATE     BUILDS  OS/ARCH        ADMIN                  LAST SEEN',
      'linux-1  building  1/2     linux/aarch64  Ann <ann@example.org>  now',
      'mac-1    offline   0/2     macos/?                               5m ago',
      'bsd      offline   0/2     ?/?                                   never',
      '',
    ]);
  });
});
