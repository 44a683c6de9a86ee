import { describe, expect, it } from 'vitest';
import type { InstanceJson } from '../../../src/master/api/schemas.js';
import { budgetBar, connectDelay, formatMoney, instanceAge, instanceReason, instanceStateLook, newestFirst, notConnectedText, waitingById } from './cost-view.js';

const t0 = 1_700_000_000_000;
const instance: InstanceJson = {
  id: 1,
  name: 'cloud-1',
  pool: 'cloud',
  provider: 'local',
  provider_id: '/tmp/p',
  state: 'stopped',
  started_at: t0,
  connected_at: t0 + 4200,
  stopped_at: t0 + 600_000,
  builds: 2,
  reason: 'idle for 1m',
  cost: 0.1,
};

describe('formatMoney', () => {
  it('writes two decimals and no currency symbol', () => {
    expect([0, 0.005, 12.345, 187.456, 200].map(formatMoney)).toEqual(['0.00', '0.01', '12.35', '187.46', '200.00']);
  });
});

describe('budgetBar', () => {
  it('fills in proportion, amber past alert_at, red and capped at the full budget', () => {
    expect(budgetBar(50, { budget: 200, alert_at: 0.8 })).toEqual({ fill: 25, level: 'ok', label: '50.00 of 200.00 (25%)' });
    expect(budgetBar(187.456, { budget: 200, alert_at: 0.8 })).toMatchObject({ level: 'alert', label: '187.46 of 200.00 (93%)' });
    expect(budgetBar(199.9, { budget: 200, alert_at: null })).toMatchObject({ level: 'ok', label: '199.90 of 200.00 (99%)' });
    expect(budgetBar(230, { budget: 200, alert_at: 0.8 })).toEqual({ fill: 100, level: 'exhausted', label: '230.00 of 200.00 (115%)' });
  });
  it('has no bar without a budget', () => {
    expect(budgetBar(12, { budget: null, alert_at: null })).toBeNull();
  });
});

describe('instance life', () => {
  it('ages to now while alive and to its stop once stopped', () => {
    expect(instanceAge(instance, t0 + 10 * 600_000)).toBe(600_000);
    expect(instanceAge({ ...instance, stopped_at: null }, t0 + 90_000)).toBe(90_000);
  });
  it('says after how long its agent connected, or that it has not yet, or never did', () => {
    expect(connectDelay(instance)).toBe(4200);
    expect(connectDelay({ ...instance, connected_at: null })).toBeNull();
    expect(notConnectedText({ stopped_at: null })).toBe('not yet');
    expect(notConnectedText({ stopped_at: t0 })).toBe('never');
  });
  it('gives the reason as stopped or failed', () => {
    expect(instanceReason(instance)).toBe('stopped: idle for 1m');
    expect(instanceReason({ state: 'failed', reason: 'its agent did not connect within 5m' })).toBe('failed: its agent did not connect within 5m');
    expect(instanceReason({ state: 'idle', reason: null })).toBeNull();
  });
  it('reads every state with an icon and a word', () => {
    const states = ['starting', 'connected', 'building', 'idle', 'stopping', 'stopped', 'failed'] as const;
    expect(states.map((s) => instanceStateLook(s).label)).toEqual([...states]);
    expect(instanceStateLook('failed').key).toBe('missing');
  });
  it('lists the newest first', () => {
    const later = { ...instance, id: 2, started_at: t0 + 1 };
    expect(newestFirst([instance, later]).map((i) => i.id)).toEqual([2, 1]);
  });
});

describe('waitingById', () => {
  it('keeps the reasons of queued requests only', () => {
    const reasons = waitingById([
      { id: 1, state: 'queued', waiting: 'waiting: budget 200 reached: no new instance' },
      { id: 2, state: 'queued', waiting: null },
      { id: 3, state: 'claimed', waiting: 'stale' },
      { id: 4, state: 'queued' },
    ]);
    expect([...reasons]).toEqual([[1, 'waiting: budget 200 reached: no new instance']]);
    expect(waitingById(undefined).size).toBe(0);
  });
});
