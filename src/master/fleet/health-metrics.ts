/**
 * Farm health as Prometheus gauges, collected on scrape: each gauge's
 * `collect()` reads the health document (the API's, from the pure
 * decisions of `health.ts`), so a dashboard and `GET /api/v1/health` never
 * disagree. One read serves all the gauges of a scrape, and scrapes closer
 * together than `CACHE_MS` share it: a fixed handful of queries at most
 * every few seconds, whatever the number of gauges or scrapers.
 */
import { Gauge, type Registry } from 'prom-client';
import type { HealthJson } from '../api/schemas.js';
import type { Millis } from '../domain.js';

/** Scrapes closer together than this reuse the last read. */
const CACHE_MS = 5_000;

/** The gauges' names, for tests and dashboards. */
export const HEALTH_METRICS = [
  'shepherd_farm_health_score',
  'shepherd_platform_live_workers',
  'shepherd_platform_short',
  'shepherd_workers',
  'shepherd_builders_red_for_long',
] as const;

/**
 * Registers the farm-health gauges on `registry`. `read` answers the
 * health document now (`readHealth` over the coordinator); `now` is the
 * master's clock. A failed read leaves the gauges as they were and is tried
 * again on the next scrape: a scrape never fails because of it.
 */
export function registerHealthMetrics(registry: Registry, read: () => Promise<HealthJson>, now: () => Millis): void {
  let last: { at: Millis; document: Promise<HealthJson | null> } | null = null;
  function current(): Promise<HealthJson | null> {
    const at = now();
    if (last === null || at - last.at >= CACHE_MS || at < last.at) {
      const document = read().catch(() => {
        last = null;
        return null;
      });
      last = { at, document };
    }
    return last.document;
  }

  const registers = [registry];
  new Gauge({
    name: 'shepherd_farm_health_score',
    help: "The farm's health, 0 to 100 (see docs/fleet.md for the formula).",
    registers,
    async collect() {
      const health = await current();
      if (health) this.set(health.score);
    },
  });
  /** A gauge with one label whose series are all set afresh from each read (gone platforms or states disappear). */
  function labelled(name: string, help: string, label: string, series: (health: HealthJson) => Iterable<[string, number]>): void {
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers,
      async collect() {
        const health = await current();
        if (!health) return;
        this.reset();
        for (const [value, count] of series(health)) this.set({ [label]: value }, count);
      },
    });
  }
  labelled('shepherd_platform_live_workers', 'Live workers (connected, not paused) per configured platform.', 'platform', (h) =>
    h.platforms.map((p) => [p.name, p.live]),
  );
  labelled('shepherd_platform_short', '1 when a platform has fewer live workers than its redundancy, else 0.', 'platform', (h) =>
    h.platforms.map((p) => [p.name, p.short ? 1 : 0]),
  );
  labelled(
    'shepherd_workers',
    'Workers per fleet state (building, idle, paused, offline, missing, orphaned).',
    'state',
    (h) => Object.entries(h.worker_states),
  );
  new Gauge({
    name: 'shepherd_builders_red_for_long',
    help: 'Builders failing for at least fleet.health.red_for (default 7 days).',
    registers,
    async collect() {
      const health = await current();
      if (health) this.set(health.red_builders.length);
    },
  });
}
