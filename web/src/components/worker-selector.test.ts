import { describe, expect, it } from 'vitest';
import { formatSelector, selectorItems } from './worker-selector.js';

describe('worker selector', () => {
  it('lists worker names as links, in configured order', () => {
    expect(selectorItems(['b', 'a'])).toEqual([
      { kind: 'worker', name: 'b' },
      { kind: 'worker', name: 'a' },
    ]);
    expect(formatSelector(['b', 'a'])).toBe('b, a');
  });

  it('shows dimensions as key=value, sorted by key', () => {
    expect(selectorItems({ os: 'linux', arch: 'arm64' })).toEqual([
      { kind: 'dimension', text: 'arch=arm64' },
      { kind: 'dimension', text: 'os=linux' },
    ]);
    expect(formatSelector({ os: 'linux', arch: 'arm64' })).toBe('arch=arm64 os=linux');
  });

  it('says when any worker will do', () => {
    expect(formatSelector({})).toBe('any worker');
    expect(formatSelector([])).toBe('any worker');
  });
});
