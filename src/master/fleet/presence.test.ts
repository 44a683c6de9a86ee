import { describe, expect, it } from 'vitest';
import { fleetState } from './presence.js';
import type { FleetWorker } from './types.js';

const worker = (over: Partial<FleetWorker> = {}): FleetWorker => ({
  name: 'w1',
  admins: ['Ada <ada@example.org>'],
  dimensions: { os: 'linux' },
  connected: false,
  building: false,
  paused: false,
  disconnectedAt: 1000,
  missingAfter: 100,
  ...over,
});
const fleet = { orphanAfter: 1000 };

describe('fleetState', () => {
  it('is building or idle while connected', () => {
    expect(fleetState(worker({ connected: true, disconnectedAt: null, building: true }), 5000, fleet)).toBe('building');
    expect(fleetState(worker({ connected: true, disconnectedAt: null }), 5000, fleet)).toBe('idle');
  });

  it('goes offline, missing at exactly missing_after, orphaned at orphan_after', () => {
    expect(fleetState(worker(), 1099, fleet)).toBe('offline');
    expect(fleetState(worker(), 1100, fleet)).toBe('missing');
    expect(fleetState(worker(), 1999, fleet)).toBe('missing');
    expect(fleetState(worker(), 2000, fleet)).toBe('orphaned');
  });

  it('is paused whatever else is true', () => {
    expect(fleetState(worker({ paused: true }), 99_999, fleet)).toBe('paused');
    expect(fleetState(worker({ paused: true, connected: true, disconnectedAt: null }), 0, fleet)).toBe('paused');
  });

  it('is offline when never seen, and never orphaned before it is missing', () => {
    expect(fleetState(worker({ disconnectedAt: null }), 99_999, fleet)).toBe('offline');
    expect(fleetState(worker({ missingAfter: 5000 }), 2000, fleet)).toBe('offline');
    expect(fleetState(worker({ missingAfter: 5000 }), 6000, fleet)).toBe('orphaned');
  });
});
