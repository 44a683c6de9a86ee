import { describe, expect, it } from 'vitest';
import type { Application } from '../store/store.js';
import { applicationKey, applicationMail, decideApplicationMail, nextApplicationMailAt } from './application-mail.js';
import type { SentAlert } from './types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 28, 9);
const settings = { operators: ['Ops <ops@example.org>', 'ops@EXAMPLE.org', 'not an address'], remindEvery: DAY };

function application(overrides: Partial<Application> = {}): Application {
  return {
    id: 7,
    name: 'ada-s390x',
    dimensions: { os: 'linux', arch: 's390x' },
    maxBuilds: 1,
    contact: 'Ada <ada@example.org>',
    notes: 'In my basement.\nUp weekdays.',
    tokenHash: 'ab',
    submittedAt: T0,
    state: 'pending',
    decidedBy: null,
    decidedAt: null,
    reason: null,
    worker: null,
    ...overrides,
  };
}

const sentOf = (kind: SentAlert['kind'], sequence: number, id = 7): SentAlert => ({
  kind, worker: applicationKey(id), episode: T0, sequence, to: ['Ops <ops@example.org>'], sentAt: T0,
});

describe('application mail decisions', () => {
  it('tells the operators of a new application once, each address once', () => {
    expect(decideApplicationMail([application()], [], T0, settings)).toEqual([
      { kind: 'application', worker: 'application/7', episode: T0, sequence: 0, to: ['Ops <ops@example.org>'] },
    ]);
    expect(decideApplicationMail([application()], [sentOf('application', 0)], T0 + HOUR, settings)).toEqual([]);
  });

  it('reminds them every remind_every while it waits, only the latest reminder after a gap', () => {
    const sent = [sentOf('application', 0)];
    expect(decideApplicationMail([application()], sent, T0 + DAY, settings).map((a) => a.sequence)).toEqual([1]);
    // The master was down for three days: one reminder (the third), not three.
    expect(decideApplicationMail([application()], sent, T0 + 3 * DAY + HOUR, settings).map((a) => a.sequence)).toEqual([3]);
    expect(nextApplicationMailAt([application()], T0 + DAY + HOUR, settings)).toBe(T0 + 2 * DAY);
    expect(nextApplicationMailAt([application()], T0 + DAY + HOUR, { ...settings, remindEvery: 0 })).toBeNull();
  });

  it('mails nobody without operators, and the volunteer the decision once', () => {
    expect(decideApplicationMail([application()], [], T0, { operators: [], remindEvery: DAY })).toEqual([]);
    const approved = application({ state: 'approved', decidedAt: T0 + HOUR, decidedBy: 'victor', worker: 'ada-s390x' });
    expect(decideApplicationMail([approved], [sentOf('application', 0)], T0 + 2 * HOUR, settings)).toEqual([
      { kind: 'decision', worker: 'application/7', episode: T0, sequence: 0, to: ['Ada <ada@example.org>'] },
    ]);
    expect(decideApplicationMail([approved], [sentOf('decision', 0)], T0 + 3 * HOUR, settings)).toEqual([]);
  });
});

describe('application mails', () => {
  const context = { now: T0 + DAY, publicUrl: 'https://ci.example.org/', platforms: ['linux-s390x'], builders: ['s390x-tests'], pending: 2 };

  it('give the operators what they need to decide, and the commands', () => {
    const message = applicationMail({ kind: 'application', worker: 'application/7', episode: T0, sequence: 1, to: ['ops@example.org'] }, application(), context);
    expect(message.subject).toBe('[shepherd] Reminder: worker ada-s390x offered 1 day ago is waiting for a decision');
    expect(message.text).toContain('Dimensions:  arch=s390x, os=linux');
    expect(message.text).toContain('Platforms:   linux-s390x');
    expect(message.text).toContain('Builders:    s390x-tests');
    expect(message.text).toContain('  In my basement.\n  Up weekdays.');
    expect(message.text).toContain('shepherd applications approve 7');
    expect(message.text).toContain('https://ci.example.org/applications');
    expect(message.text).toContain('2 applications waiting in all');
  });

  it('tell the volunteer how to collect the secret, or why it was declined', () => {
    const decision = { kind: 'decision' as const, worker: 'application/7', episode: T0, sequence: 0, to: ['ada@example.org'] };
    const approved = applicationMail(decision, application({ state: 'approved', worker: 'ada-zlinux' }), context);
    expect(approved.subject).toBe('[shepherd] Your worker ada-zlinux was approved');
    expect(approved.text).toContain('shepherd join --master https://ci.example.org --status 7 --token YOUR_TOKEN');
    expect(approved.text).toContain('wss://ci.example.org');
    const declined = applicationMail(decision, application({ state: 'declined', reason: 'We have three s390x machines.', decidedBy: 'victor' }), context);
    expect(declined.subject).toBe('[shepherd] Your offer of worker ada-s390x was declined');
    expect(declined.text).toContain('(victor)');
    expect(declined.text).toContain('  We have three s390x machines.');
  });
});
