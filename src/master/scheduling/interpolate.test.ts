import { describe, expect, it } from 'vitest';
import { interpolate, renderStep } from './interpolate.js';
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
