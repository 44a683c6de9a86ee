import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { Build, Step } from '../domain.js';
import { debugTarget } from './debug-target.js';

const config = parseConfig(
  {
    workers: [{ name: 'w1', secret_env: 'S' }],
    builders: [
      {
        name: 'unix',
        workers: ['w1'],
        steps: [
          { name: 'configure', run: './configure', workdir: 'build', env: { CC: 'gcc-${{ props.gcc }}' } },
          { name: 'test', run: 'make test', workdir: 'build/${{ props.sub }}', env: { V: '1' } },
        ],
      },
    ],
  },
  '/tmp/shepherd.yml',
);
const builder = config.builders[0]!;
const build: Build = {
  id: 7, requestId: 1, builder: 'unix', number: 3, worker: 'w1', state: 'finished', result: 'FAILURE',
  properties: { gcc: '13', sub: 'tests', 'env.VERBOSE': '1' }, startedAt: 1, finishedAt: 2, summary: null,
};
function step(index: number, name: string, workdir: string | null, started: boolean): Step {
  return {
    id: index + 1, buildId: 7, index, name, state: started ? 'finished' : 'pending', result: null, command: null, workdir,
    startedAt: started ? 1 : null, finishedAt: null, exitCode: null, signal: null, summary: null, logBytes: 0, logSeq: 0, logTruncated: false,
  };
}

describe('debugTarget', () => {
  it("takes the last started step's directory and environment, with the build's env properties", () => {
    expect(debugTarget(build, [step(0, 'configure', 'build', true), step(1, 'test', 'build/tests', true)], builder)).toEqual({
      builderDir: 'unix',
      workdir: 'build/tests',
      env: { V: '1', VERBOSE: '1' },
    });
  });

  it('ignores steps that never started', () => {
    expect(debugTarget(build, [step(0, 'configure', 'build', true), step(1, 'test', null, false)], builder)).toEqual({
      builderDir: 'unix',
      workdir: 'build',
      env: { CC: 'gcc-13', VERBOSE: '1' },
    });
  });

  it("opens in the builder's directory when no step ran, and keeps the properties' env when the config changed", () => {
    expect(debugTarget(build, [step(0, 'configure', null, false)], builder)).toEqual({ builderDir: 'unix', workdir: '.', env: { VERBOSE: '1' } });
    expect(debugTarget(build, [step(0, 'renamed', 'x', true)], builder)).toEqual({ builderDir: 'unix', workdir: 'x', env: { VERBOSE: '1' } });
    expect(debugTarget(build, [step(0, 'configure', 'build', true)], undefined)).toEqual({ builderDir: 'unix', workdir: 'build', env: { VERBOSE: '1' } });
  });
});
