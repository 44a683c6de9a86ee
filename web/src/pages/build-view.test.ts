import { describe, expect, it } from 'vitest';
import type { StepJson } from '../api/client.js';
import { commandText, defaultStep, firstLine, pickStep, shortRevision } from './build-view.js';

function step(index: number, over: Partial<StepJson>): StepJson {
  return {
    id: index + 100,
    index,
    name: `s${index}`,
    state: 'finished',
    result: 'SUCCESS',
    command: null,
    workdir: null,
    started_at: 1,
    finished_at: 2,
    exit_code: 0,
    signal: null,
    summary: null,
    log: { bytes: 0, truncated: false, url: `/api/v1/steps/${index + 100}/log` },
    ...over,
  };
}

describe('defaultStep', () => {
  it('opens the first failed step', () => {
    const steps = [step(0, {}), step(1, { result: 'FAILURE' }), step(2, { result: 'EXCEPTION' }), step(3, { state: 'running', result: null })];
    expect(defaultStep(steps)?.index).toBe(1);
  });
  it('else the running one', () => {
    const steps = [step(0, {}), step(1, { state: 'running', result: null }), step(2, { state: 'pending', result: null, started_at: null })];
    expect(defaultStep(steps)?.index).toBe(1);
  });
  it('else the last one that ran', () => {
    const steps = [step(0, {}), step(1, { result: 'WARNINGS' }), step(2, { state: 'pending', result: null, started_at: null })];
    expect(defaultStep(steps)?.index).toBe(1);
    expect(defaultStep([])).toBeUndefined();
  });
  it('picks the step the URL names, by name or index', () => {
    const steps = [step(0, { name: 'checkout' }), step(1, { name: 'test', result: 'FAILURE' })];
    expect(pickStep(steps, 'checkout')?.index).toBe(0);
    expect(pickStep(steps, '0')?.index).toBe(0);
    expect(pickStep(steps, undefined)?.index).toBe(1);
    expect(pickStep(steps, 'nope')).toBeUndefined();
  });
});

describe('commandText', () => {
  it('shows a shell string as it is and quotes argv where needed', () => {
    expect(commandText('make -j2 && make test')).toBe('make -j2 && make test');
    expect(commandText(['make', '-j2'])).toBe('make -j2');
    expect(commandText(['sh', '-c', "echo 'hi' $X"])).toBe(`sh -c 'echo '\\''hi'\\'' $X'`);
    expect(commandText(['printf', ''])).toBe("printf ''");
    expect(commandText(null)).toBe('');
  });
});

describe('revisions and messages', () => {
  it('shortens revisions and takes first lines', () => {
    expect(shortRevision('0123456789abcdef0123456789abcdef01234567')).toBe('0123456789');
    expect(shortRevision('v1.2')).toBe('v1.2');
    expect(firstLine('Fix the build\n\nLonger text')).toBe('Fix the build');
  });
});
