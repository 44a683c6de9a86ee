import { describe, expect, it } from 'vitest';
import { formatTimestamp } from './format.js';
import { formatParam, formatSchedulersTable } from './scheduler-table.js';

describe('scheduler table', () => {
  it('shows each parameter with its type, default and whether it is required', () => {
    expect(formatParam('verbose', { type: 'boolean', default: false })).toBe('verbose:boolean=false');
    expect(formatParam('target', { type: 'choice', choices: ['debug', 'release'], default: 'debug' })).toBe('target:debug|release=debug');
    expect(formatParam('ticket', { type: 'string', required: true })).toBe('ticket*:string');
    expect(formatParam('note', { type: 'string', default: '' })).toBe('note:string');
  });

  it('lists kind, builders, params and the next nightly run', () => {
    const next = new Date(2024, 0, 3, 3, 0, 0).getTime();
    const text = formatSchedulersTable([
      { name: 'commits', kind: 'on_change', builders: ['unix-tests', 'mac-build'] },
      { name: 'manual', kind: 'force', builders: ['unix-tests'], params: { verbose: { type: 'boolean', default: false } } },
      { name: 'nightly', kind: 'nightly', builders: ['unix-tests'], next_run: next },
    ]);
    expect(text.split('\n')).toEqual([
      'NAME     KIND       BUILDERS              PARAMS                 NEXT RUN',
      'commits  on_change  unix-tests,mac-build',
      'manual   force      unix-tests            verbose:boolean=false',
      `nightly  nightly    unix-tests                                   ${formatTimestamp(next)}`,
      '',
    ]);
  });
});
