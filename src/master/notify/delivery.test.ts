import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { MasterEventBus, type MasterEvents } from '../events.js';
import { DeliveryQueue, retryDelay } from './delivery.js';

const retry = { attempts: 4, first_delay: 1_000, max_delay: 3_000 };

function setup() {
  const clock = new ManualClock();
  const events = new MasterEventBus((_, error) => { throw error; });
  const failed: MasterEvents['notify:failed'][] = [];
  events.on('notify:failed', (p) => failed.push(p));
  const queue = new DeliveryQueue({ clock, events, logger: pino({ level: 'silent' }), retry });
  return { clock, queue, failed };
}

describe('retryDelay', () => {
  it('doubles from first_delay up to max_delay', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(retry, n))).toEqual([1_000, 2_000, 3_000, 3_000, 3_000]);
  });
});

describe('DeliveryQueue', () => {
  it('retries on the clock until a delivery succeeds', async () => {
    const { clock, queue, failed } = setup();
    let calls = 0;
    queue.deliver({ notifier: 'n', buildId: 1, what: 'x', send: async () => { if (++calls < 3) throw new Error('busy'); } });
    await queue.settled();
    expect(calls).toBe(1);
    clock.advance(999);
    await queue.settled();
    expect(calls).toBe(1);
    clock.advance(1);
    await queue.settled();
    expect(calls).toBe(2);
    clock.advance(2_000);
    await queue.idle();
    expect(calls).toBe(3);
    expect(failed).toEqual([]);
  });

  it('reports notify:failed after the last attempt, and not before', async () => {
    const { clock, queue, failed } = setup();
    let calls = 0;
    queue.deliver({ notifier: 'n', buildId: 9, what: 'x', send: async () => { calls++; throw new Error('down'); } });
    for (const wait of [1_000, 2_000, 3_000]) {
      await queue.settled();
      expect(failed).toEqual([]);
      clock.advance(wait);
    }
    await queue.idle();
    expect(calls).toBe(4);
    expect(failed).toEqual([{ notifier: 'n', buildId: 9, error: 'down' }]);
  });

  it('does not retry a permanent failure', async () => {
    const { queue, failed } = setup();
    queue.deliver({ notifier: 'n', buildId: 2, what: 'x', send: async () => { throw Object.assign(new Error('HTTP 404'), { permanent: true }); } });
    await queue.idle();
    expect(failed).toHaveLength(1);
  });

  it('never throws into the caller, even when send throws synchronously', async () => {
    const { queue, failed } = setup();
    expect(() => queue.deliver({ notifier: 'n', buildId: 3, what: 'x', send: () => { throw Object.assign(new Error('bad'), { permanent: true }); } })).not.toThrow();
    await queue.idle();
    expect(failed).toHaveLength(1);
  });

  it('stop cancels waiting retries', async () => {
    const { clock, queue, failed } = setup();
    let calls = 0;
    queue.deliver({ notifier: 'n', buildId: 4, what: 'x', send: async () => { calls++; throw new Error('down'); } });
    await queue.settled();
    await queue.stop();
    await queue.idle();
    clock.advance(60_000);
    expect(calls).toBe(1);
    expect(failed).toEqual([]);
  });
});
