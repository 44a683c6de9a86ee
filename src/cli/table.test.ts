import { describe, expect, it } from 'vitest';
import { formatTable } from './table.js';

describe('formatTable', () => {
  it('pads columns by their widest cell, with no trailing blanks', () => {
    const text = formatTable(['id', 'builder', 'result'], [
      ['1', 'unix-tests', 'SUCCESS'],
      ['12', 'mac', ''],
    ]);
    expect(text).toBe('ID  BUILDER     RESULT\n1   unix-tests  SUCCESS\n12  mac\n');
  });

  it('prints only the header for no rows', () => {
    expect(formatTable(['a', 'b'], [])).toBe('A  B\n');
  });
});
