import { describe, expect, it } from 'vitest';
import { KeyedSerializer } from './keyed-serializer.js';

/** A promise and the functions that settle it, so a test decides when a task ends. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

describe('KeyedSerializer', () => {
  it('runs tasks under one key one after another, in call order', async () => {
    const serializer = new KeyedSerializer();
    const log: string[] = [];
    const first = gate();
    const one = serializer.run('k', async () => {
      log.push('1 start');
      await first.promise;
      log.push('1 end');
      return 1;
    });
    const two = serializer.run('k', async () => {
      log.push('2 start');
      return 2;
    });
    await Promise.resolve();
    expect(log).toEqual(['1 start']);
    first.open();
    expect(await Promise.all([one, two])).toEqual([1, 2]);
    expect(log).toEqual(['1 start', '1 end', '2 start']);
  });

  it('runs tasks under different keys concurrently', async () => {
    const serializer = new KeyedSerializer();
    const blocked = gate();
    const slow = serializer.run('a', () => blocked.promise.then(() => 'a'));
    expect(await serializer.run('b', async () => 'b')).toBe('b');
    blocked.open();
    expect(await slow).toBe('a');
  });

  it('carries on after a task fails, and reports the failure to its caller only', async () => {
    const serializer = new KeyedSerializer();
    const failing = gate();
    const bad = serializer.run('k', () => failing.promise);
    const good = serializer.run('k', async () => 'ok');
    failing.fail(new Error('boom'));
    await expect(bad).rejects.toThrow('boom');
    expect(await good).toBe('ok');
  });
});
