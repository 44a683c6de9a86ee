import { describe, expect, it } from 'vitest';
import { adminOf, parseContact } from './contact.js';
import { workerStateLook } from './worker-state.js';

describe('admin contact', () => {
  it('splits name and address', () => {
    expect(parseContact('Jane Doe <jane@example.org>')).toEqual({ name: 'Jane Doe', email: 'jane@example.org' });
    expect(parseContact('<jane@example.org>')).toEqual({ name: 'jane@example.org', email: 'jane@example.org' });
    expect(parseContact(' ops@example.org ')).toEqual({ name: 'ops@example.org', email: 'ops@example.org' });
    expect(parseContact('the infra team, #builds on IRC')).toEqual({ name: 'the infra team, #builds on IRC', email: null });
  });

  it('reads admin from the reported info', () => {
    expect(adminOf({ admin: 'Jane' })).toBe('Jane');
    expect(adminOf({ admin: ' ' })).toBeNull();
    expect(adminOf({ admin: 3 })).toBeNull();
    expect(adminOf(null)).toBeNull();
  });
});

describe('worker state look', () => {
  it('has an icon and a word for every state, known or not', () => {
    expect(workerStateLook('idle')).toMatchObject({ label: 'idle', key: 'idle' });
    expect(workerStateLook('paused')).toMatchObject({ label: 'paused', key: 'paused' });
    expect(workerStateLook('quarantined')).toEqual({ icon: '?', label: 'quarantined', key: 'unknown' });
  });
});
