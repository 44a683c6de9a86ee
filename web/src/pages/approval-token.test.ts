import { describe, expect, it } from 'vitest';
import { approvalToken as workerApproval, endToken as workerEnd } from '../../../src/worker/debug/approval.js';
import { approvalToken, endToken } from './approval-token.js';

describe('approval tokens in the browser', () => {
  it('are the tokens the worker checks', async () => {
    expect(await approvalToken('s3cret', 'Ab_12-x')).toBe(workerApproval('s3cret', 'Ab_12-x'));
    expect(await endToken('s3cret', 'Ab_12-x')).toBe(workerEnd('s3cret', 'Ab_12-x'));
    expect(await approvalToken('other', 'Ab_12-x')).not.toBe(workerApproval('s3cret', 'Ab_12-x'));
  });
});
