import { describe, expect, it } from 'vitest';
import type { BuildRequest } from '../domain.js';
import { collapseGroup } from './collapse.js';

function request(id: number, builder: string, collapseKey: string | null, submittedAt = id): BuildRequest {
  return {
    id,
    builder,
    priority: 0,
    properties: { revision: `r${id}` },
    reason: '',
    submittedBy: null,
    submittedAt,
    state: 'queued',
    buildId: null,
    result: null,
    scheduler: null,
    collapseKey,
    patchId: null,
    changeIds: [id],
  };
}

describe('collapseGroup', () => {
  const queue = [request(1, 'a', 'src\nmain'), request(2, 'b', 'src\nmain'), request(3, 'a', 'src\n3.13'), request(4, 'a', 'src\nmain'), request(5, 'a', null), request(6, 'a', 'src\nmain')];

  it('merges same builder and key, and builds the newest', () => {
    const group = collapseGroup(queue[0]!, queue, true);
    expect(group.merged.map((r) => r.id)).toEqual([4, 6]);
    expect(group.newest.id).toBe(6);
  });

  it('never merges when the builder says collapse: false', () => {
    expect(collapseGroup(queue[0]!, queue, false)).toMatchObject({ merged: [], newest: { id: 1 } });
  });

  it('never merges requests without a key (forced, try)', () => {
    expect(collapseGroup(queue[4]!, queue, true).merged).toEqual([]);
  });

  it('takes the latest submission as newest, whatever the queue order', () => {
    const group = collapseGroup(request(10, 'a', 'k', 500), [request(10, 'a', 'k', 500), request(11, 'a', 'k', 100)], true);
    expect(group.newest.id).toBe(10);
  });
});
