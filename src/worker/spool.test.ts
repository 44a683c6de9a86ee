import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shepherd-spool-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const chunk = (seq: number, size = 10) => Buffer.alloc(size, seq);
const files = (stepId: number) => (existsSync(join(dir, 'spool', String(stepId))) ? readdirSync(join(dir, 'spool', String(stepId))).sort((a, b) => Number(a) - Number(b)) : []);

describe('Spool', () => {
  it('keeps chunks in memory up to the budget shared by all steps, then spills to disk', async () => {
    const spool = new Spool({ dir: join(dir, 'spool'), memoryLimitBytes: 25 });
    spool.append(1, 1, 'stdout', chunk(1));
    spool.append(2, 1, 'stderr', chunk(21));
    spool.append(1, 2, 'stdout', chunk(2)); // 30 bytes would exceed 25
    spool.append(1, 3, 'stderr', chunk(3));
    expect(spool.memoryBytes).toBe(20);
    expect(spool.diskBytes).toBe(20);
    expect(files(1)).toEqual(['2', '3']);
    expect(await spool.read(1, 2)).toEqual({ stream: 'stdout', data: chunk(2) });
    expect(await spool.read(1, 3)).toEqual({ stream: 'stderr', data: chunk(3) });
    expect(await spool.read(2, 1)).toEqual({ stream: 'stderr', data: chunk(21) });
  });

  it('replays what follows an acknowledged sequence number and removes acknowledged files', async () => {
    const spool = new Spool({ dir: join(dir, 'spool'), memoryLimitBytes: 30 });
    for (let seq = 1; seq <= 8; seq++) spool.append(7, seq, 'stdout', chunk(seq));
    expect(files(7)).toEqual(['4', '5', '6', '7', '8']);

    spool.ack(7, 5);
    expect(files(7)).toEqual(['6', '7', '8']);
    expect(spool.memoryBytes).toBe(0);
    expect(spool.diskBytes).toBe(30);
    expect(await spool.read(7, 5)).toBeUndefined();
    const replay = [];
    for (let seq = 6; seq <= 8; seq++) replay.push((await spool.read(7, seq))!.data);
    expect(replay).toEqual([chunk(6), chunk(7), chunk(8)]);

    // Memory freed by acks is used again before the disk.
    spool.append(7, 9, 'stdout', chunk(9));
    expect(files(7)).toEqual(['6', '7', '8']);
    expect(spool.memoryBytes).toBe(10);

    spool.ack(7, 100);
    expect(files(7)).toEqual([]);
    expect(spool.memoryBytes + spool.diskBytes).toBe(0);
    spool.ack(7, 3); // an old ack after a newer one changes nothing
    expect(spool.has(7, 9)).toBe(false);
  });

  it('drops a whole step, files and all', () => {
    const spool = new Spool({ dir: join(dir, 'spool'), memoryLimitBytes: 10 });
    for (let seq = 1; seq <= 3; seq++) spool.append(3, seq, 'stdout', chunk(seq));
    spool.drop(3);
    expect(existsSync(join(dir, 'spool', '3'))).toBe(false);
    expect(spool.memoryBytes + spool.diskBytes).toBe(0);
  });

  it('reset removes what an earlier agent left behind', () => {
    const earlier = new Spool({ dir: join(dir, 'spool'), memoryLimitBytes: 0 });
    earlier.append(1, 1, 'stdout', chunk(1));
    new Spool({ dir: join(dir, 'spool'), memoryLimitBytes: 0 }).reset();
    expect(existsSync(join(dir, 'spool'))).toBe(false);
  });
});
