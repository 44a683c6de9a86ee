import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_PROPERTIES_BYTES } from '../protocol/index.js';
import { prepareStepDir, readStepProperties, removeStepDir } from './step-dir.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shepherd-step-dir-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('step directory', () => {
  it('is made afresh with the master files, and removed', () => {
    const step = join(dir, 'steps', '7');
    mkdirSync(step, { recursive: true });
    writeFileSync(join(step, 'stale'), 'from an earlier agent');
    prepareStepDir(step, [{ name: 'try.patch', data_base64: Buffer.from([0, 1, 255]).toString('base64') }]);
    expect(existsSync(join(step, 'stale'))).toBe(false);
    expect(readFileSync(join(step, 'try.patch'))).toEqual(Buffer.from([0, 1, 255]));
    expect(() => prepareStepDir(step, [{ name: '..', data_base64: '' }])).toThrow('the master sent a file named ".."');
    expect(removeStepDir(step)).toBeNull();
    expect(existsSync(step)).toBe(false);
    expect(removeStepDir(step)).toBeNull();
  });

  it('reads the properties file: none when absent, only a regular file, only its first 64 KiB', () => {
    expect(readStepProperties(dir)).toEqual({ properties: {}, problems: [] });
    writeFileSync(join(dir, 'properties'), 'a=1\nb=2\n');
    expect(readStepProperties(dir)).toEqual({ properties: { a: '1', b: '2' }, problems: [] });

    writeFileSync(join(dir, 'elsewhere'), 'secret=x\n');
    rmSync(join(dir, 'properties'));
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'properties'));
    expect(readStepProperties(dir)).toEqual({ properties: {}, problems: ['$SHEPHERD_STEP_DIR/properties is a symbolic link; it is ignored'] });

    // A FIFO nobody writes to must not block the agent.
    rmSync(join(dir, 'properties'));
    execFileSync('mkfifo', [join(dir, 'properties')]);
    expect(readStepProperties(dir)).toEqual({ properties: {}, problems: ['$SHEPHERD_STEP_DIR/properties is not a regular file; it is ignored'] });

    rmSync(join(dir, 'properties'));
    const filler = `pad=${'x'.repeat(9000)}\n`;
    writeFileSync(join(dir, 'properties'), `first=1\n${filler.repeat(Math.ceil((2 * MAX_PROPERTIES_BYTES) / filler.length))}`);
    const big = readStepProperties(dir);
    expect(big.properties.first).toBe('1');
    expect(big.properties.pad).toBe('x'.repeat(9000));
    // The line cut at the limit is dropped, not taken for a shorter value.
    expect(big.problems.at(-1)).toBe('$SHEPHERD_STEP_DIR/properties is larger than 64 KiB; the rest is ignored');
  });
});
