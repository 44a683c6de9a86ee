import { describe, expect, it } from 'vitest';
import { envFromProperties, interpolate, renderStep } from './interpolate.js';
import { ShepherdError } from '../errors.js';

describe('interpolate', () => {
  it('replaces placeholders with or without spaces', () => {
    expect(interpolate('./configure ${{ props.flags }} ${{props.x}}', { flags: '--with-pydebug', x: '1' }, 's'))
      .toBe('./configure --with-pydebug 1');
  });
  it('leaves other dollar forms alone', () => {
    expect(interpolate('echo $HOME ${PATH} $${{ props.a }}', { a: 'b' }, 's')).toBe('echo $HOME ${PATH} $b');
  });
  it('names an unknown property and the step', () => {
    try {
      interpolate('${{ props.nope }}', { builder: 'b' }, 'step build');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ShepherdError);
      expect((error as ShepherdError).code).toBe('SHEPHERD_E_PROPERTY');
      expect((error as Error).message).toBe('step build: unknown property "nope"; the build has builder');
    }
  });
});

describe('renderStep', () => {
  it('interpolates each argv element, env values and workdir', () => {
    const step = {
      name: 's', run: ['make', '-j${{ props.jobs }}'], env: { V: '${{ props.v }}' }, workdir: 'b-${{ props.builder }}',
      timeout: 1, halt_on_failure: true, always_run: false,
    };
    expect(renderStep(step, { jobs: '2', v: 'yes', builder: 'unix' })).toEqual({
      run: ['make', '-j2'], env: { V: 'yes' }, workdir: 'b-unix',
    });
  });
});

describe('env.NAME properties', () => {
  const step = {
    name: 's', run: 'make', env: { V: '0', CC: 'cc' }, workdir: '.',
    timeout: 1, halt_on_failure: true, always_run: false,
  };
  it('adds them to every step, over the step\'s own env', () => {
    expect(renderStep(step, { 'env.V': '1', 'env.EXTRA': 'a b' }).env).toEqual({ V: '1', CC: 'cc', EXTRA: 'a b' });
  });
  it('takes their values literally, not as templates', () => {
    expect(renderStep(step, { 'env.X': '${{ props.nope }}' }).env.X).toBe('${{ props.nope }}');
  });
  it('ignores names no shell could export', () => {
    expect(envFromProperties({ 'env.A-B': '1', 'env.': '2', 'env.1X': '3', envX: '4', 'env.OK_1': '5' })).toEqual({ OK_1: '5' });
  });
  it('reaches a checkout step, whose command is generated', () => {
    const checkout = { ...step, run: undefined, env: {} };
    expect(renderStep(checkout, { 'env.GIT_TRACE': '1' }, 'git fetch')).toEqual({ run: 'git fetch', env: { GIT_TRACE: '1' }, workdir: '.' });
  });
  it('is still readable as a property in templates', () => {
    expect(renderStep({ ...step, run: 'echo ${{ props.env.V }}' }, { 'env.V': '2' }).run).toBe('echo 2');
  });
});
