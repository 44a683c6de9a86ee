import { describe, expect, it } from 'vitest';
import type { ApplicationJson } from '../api/client.js';
import { pendingCount, splitApplications } from './applications-order.js';

function application(id: number, state: ApplicationJson['state'], submitted: number, decided: number | null = null): ApplicationJson {
  return {
    id,
    name: `w${id}`,
    dimensions: { os: 'linux' },
    max_builds: 1,
    contact: 'Ada <ada@example.org>',
    notes: null,
    state,
    submitted_at: submitted,
    decided_by: decided === null ? null : 'op',
    decided_at: decided,
    reason: null,
    worker: null,
    platforms: [],
    builders: [],
  };
}

describe('splitApplications', () => {
  it('lists pending ones oldest first, then decided ones latest decision first', () => {
    // As the API returns them: newest first.
    const all = [application(4, 'pending', 40), application(3, 'declined', 30, 45), application(2, 'pending', 20), application(1, 'approved', 10, 50)];
    const { pending, decided } = splitApplications(all);
    expect(pending.map((a) => a.id)).toEqual([2, 4]);
    expect(decided.map((a) => a.id)).toEqual([1, 3]);
    expect(pendingCount(all)).toBe(2);
    expect(pendingCount(undefined)).toBe(0);
  });
});
