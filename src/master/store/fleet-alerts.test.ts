import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { SentAlert } from '../fleet/types.js';
import type { Store } from './store.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const ADA = 'Ada <ada@example.org>';

function alert(fields: Partial<SentAlert>): SentAlert {
  return { kind: 'missing', worker: 'w1', episode: T0, sequence: 0, to: [ADA], sentAt: T0 + HOUR, ...fields };
}

describe.each(DATABASES)('fleet alerts on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  it('records alerts and lists them oldest first, filtered by worker and episode', async () => {
    const missing = alert({});
    const reminder1 = alert({ kind: 'reminder', sequence: 1, sentAt: T0 + 25 * HOUR });
    const other = alert({ worker: 'w2', episode: T0 + 2 * HOUR, to: ['Bob <bob@example.org>', 'ops@example.org'], sentAt: T0 + 3 * HOUR });
    const recovered = alert({ kind: 'recovered', sentAt: T0 + 30 * HOUR });
    const nextEpisode = alert({ episode: T0 + 40 * HOUR, sentAt: T0 + 41 * HOUR });
    expect(await store.recordAlerts([reminder1, missing])).toEqual([true, true]);
    expect(await store.recordAlerts([other, recovered, nextEpisode])).toEqual([true, true, true]);
    expect(await store.recordAlerts([])).toEqual([]);

    expect(await store.listAlerts({})).toEqual([missing, other, reminder1, recovered, nextEpisode]);
    expect(await store.listAlerts({ worker: 'w1' })).toEqual([missing, reminder1, recovered, nextEpisode]);
    expect(await store.listAlerts({ worker: 'w1', episode: T0 })).toEqual([missing, reminder1, recovered]);
    expect(await store.listAlerts({ episode: T0 + 2 * HOUR })).toEqual([other]);
    expect(await store.listAlerts({ worker: 'nobody' })).toEqual([]);
  });

  it('refuses an alert already recorded (same worker, episode, kind, sequence)', async () => {
    const missing = alert({});
    expect(await store.recordAlerts([missing])).toEqual([true]);
    // A restarted master deciding it again, later and to other people: still the same fact.
    const again = alert({ sentAt: T0 + 2 * HOUR, to: ['someone@example.org'] });
    const reminder1 = alert({ kind: 'reminder', sequence: 1 });
    const reminder2 = alert({ kind: 'reminder', sequence: 2 });
    expect(await store.recordAlerts([reminder1, again, reminder2, reminder1])).toEqual([true, false, true, false]);
    expect(await store.listAlerts({ worker: 'w1' })).toEqual([missing, reminder1, reminder2]);
  });

  it('lets exactly one of concurrent identical recordings through', async () => {
    const batch = [alert({}), alert({ kind: 'orphaned', to: ['volunteers@example.org'] })];
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.recordAlerts(i % 2 === 0 ? batch : [...batch].reverse())));
    const wins = results.map((r, i) => (i % 2 === 0 ? r : [...r].reverse()));
    expect(wins.filter(([first]) => first)).toHaveLength(1);
    expect(wins.filter(([, second]) => second)).toHaveLength(1);
    expect(await store.listAlerts({})).toHaveLength(2);
  });
});
