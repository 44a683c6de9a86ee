/**
 * `shepherd check-config` warns, without failing, about builders no
 * configured worker can run (agents may still report the dimensions).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../run-cli.js';

let stdout: string[];
let stderr: string[];

beforeEach(() => {
  stdout = [];
  stderr = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const dir = mkdtempSync(join(tmpdir(), 'shepherd-check-coverage-'));
const file = join(dir, 'farm.yml');
writeFileSync(
  file,
  [
    'workers:',
    '  - { name: lx-1, secret_env: W1, dimensions: { os: linux, arch: x86_64 } }',
    'builders:',
    '  - { name: unix, workers: { os: linux }, steps: [{ name: s, run: make }] }',
    '  - { name: win, workers: { os: windows }, steps: [{ name: s, run: make }] }',
    'platforms:',
    '  - { name: linux-x86_64, select: { os: linux, arch: x86_64 }, tier: 1, redundancy: 2 }',
    '',
  ].join('\n'),
);

describe('check-config and coverage', () => {
  it('warns on stderr about a builder no configured worker can run, and still exits 0', async () => {
    expect(await runCli(['node', 'shepherd', 'check-config', file])).toBe(0);
    expect(stdout.join('')).toBe(`${file}: OK (1 workers, 2 builders)\n`);
    expect(stderr).toEqual([
      `${file}: warning: builders[1].workers: no configured worker can run builder "win"; add a worker with its dimensions, or check its selector\n`,
    ]);
  });

  it('lists the warnings in --json', async () => {
    expect(await runCli(['node', 'shepherd', 'check-config', file, '--json'])).toBe(0);
    expect(JSON.parse(stdout.join(''))).toMatchObject({ ok: true, warnings: [expect.stringContaining('builder "win"')] });
    expect(stderr).toEqual([]);
  });
});
