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
  new Gauge({
    name: 'shepherd_platform_live_workers',
    help: 'Live workers (connected, not paused) per configured platform.',
    labelNames: ['platform'] as const,
    registers,
    async collect() {
      const health = await current();
      if (!health) return;
      this.reset();
      for (const p of health.platforms) this.set({ platform: p.name }, p.live);
    },
  });
  new Gauge({
    name: 'shepherd_platform_short',
    help: '1 when a platform has fewer live workers than its redundancy, else 0.',
    labelNames: ['platform'] as const,
    registers,
    async collect() {
      const health = await current();
      if (!health) return;
      this.reset();
      for (const p of health.platforms) this.set({ platform: p.name }, p.short ? 1 : 0);
    },
  });
  new Gauge({
    name: 'shepherd_workers',
    help: 'Configured workers per fleet state (building, idle, paused, offline, missing, orphaned).',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const health = await current();
      if (!health) return;
      this.reset();
      for (const [state, count] of Object.entries(health.worker_states)) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'shepherd_builders_red_for_long',
    help: 'Builders failing for at least the red threshold (7 days).',
    registers,
    async collect() {
      const health = await current();
      if (health) this.set(health.red_builders.length);
    },
  });
}
