import { describe, expect, it } from 'vitest';
import type { ChangeSourceConfig, CheckoutConfig } from '../config/schema.js';
import { checkoutTarget } from './checkout-target.js';

const source: ChangeSourceConfig = {
  name: 'cpython',
  git: 'file:///srv/cpython.git',
  branches: ['3.*', 'main'],
  poll: 0,
  on_first_poll: 'record',
  max_changes_per_push: 100,
};
const step: CheckoutConfig = { source: 'cpython', mode: 'incremental', shallow: false };

describe('checkoutTarget', () => {
  it("uses the build's branch and revision for a build of this source", () => {
    expect(checkoutTarget(step, source, { source: 'cpython', branch: '3.13', revision: 'abc' })).toEqual({
      repository: 'file:///srv/cpython.git',
      branch: '3.13',
      revision: 'abc',
      mode: 'incremental',
      shallow: false,
    });
  });

  it('takes the head of the first plain branch for a forced build', () => {
    expect(checkoutTarget(step, source, { revision: '', branch: '' })).toMatchObject({ branch: 'main', revision: '' });
  });

  it('honours the step branch, and a forced revision', () => {
    expect(checkoutTarget({ ...step, branch: '3.12' }, source, { revision: 'f00', branch: '' })).toMatchObject({ branch: '3.12', revision: 'f00' });
  });

  it("ignores another source's revision", () => {
    expect(checkoutTarget(step, source, { source: 'docs', branch: 'gh-pages', revision: 'abc' })).toMatchObject({ branch: 'main', revision: '' });
  });
});
