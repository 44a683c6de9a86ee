/**
 * A worker's uptime as people read it: a whole percentage that says 100%
 * only when it is, and a dash for a worker never seen (no uptime to speak of).
 */
import type { WorkerJson } from '../api/client.js';

/** A share (0 to 1) as a whole percentage, never rounded up to 100% while short of it. */
export function formatShare(share: number): string {
  const percent = Math.round(share * 100);
  return `${share < 1 && percent === 100 ? 99 : percent}%`;
}

/** One uptime figure of a worker ("d7" or "d30"); a dash when it was never seen. */
export function Uptime({ worker, over }: { worker: Pick<WorkerJson, 'uptime' | 'connected' | 'last_seen'>; over: 'd7' | 'd30' }) {
  if (!worker.connected && worker.last_seen === null) return <span className="muted">—</span>;
  const days = over === 'd7' ? 7 : 30;
  return <span title={`connected ${(worker.uptime[over] * 100).toFixed(1)}% of the last ${days} days`}>{formatShare(worker.uptime[over])}</span>;
}
