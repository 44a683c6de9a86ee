import { describe, expect, it } from 'vitest';
import type { BuildDetailJson, RequestJson } from '../master/api/schemas.js';
import type { WaitOutcome } from './wait-for-request.js';
import { exitStatusForOutcomes, labelProgress } from './wait-for-requests.js';

const build = (result: BuildDetailJson['result']): WaitOutcome => ({ kind: 'build', build: { result } as BuildDetailJson });
const cancelled: WaitOutcome = { kind: 'cancelled', request: {} as RequestJson };

describe('waiting for several requests', () => {
  it('tags step lines with their builder; lines naming the build stay as they are', () => {
    expect(labelProgress('mac-build', '  compile: SUCCESS (1.2s)')).toBe('  [mac-build] compile: SUCCESS (1.2s)');
    expect(labelProgress('mac-build', 'build mac-build #3 started on mac-1')).toBe('build mac-build #3 started on mac-1');
  });

  it('exits 0 only when every request ended in a SUCCESS build', () => {
    expect(exitStatusForOutcomes([build('SUCCESS'), build('SUCCESS')])).toBe(0);
    expect(exitStatusForOutcomes([build('SUCCESS'), build('WARNINGS')])).toBe(1);
    expect(exitStatusForOutcomes([build('SUCCESS'), cancelled])).toBe(1);
  });
});
