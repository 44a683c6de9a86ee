/**
 * An on-demand instance as the workers views mark it: its state as a badge
 * (icon and word), and a one-line summary: pool, state, age and cost.
 */
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import type { InstanceJson } from '../api/client.js';
import { formatMoney, instanceAge, instanceStateLook } from '../pages/cost-view.js';
import { formatDuration } from './time.js';
import './farm-views.css';

/** The instance state badge (a worker state's colours). */
export function InstanceStateBadge({ state }: { state: InstanceJson['state'] }) {
  const look = instanceStateLook(state);
  return (
    <span className={`state state-${look.key}`} title={`instance ${look.label}`}>
      <span aria-hidden="true">{look.icon}</span> {look.label}
    </span>
  );
}

/** The age of a live instance, refreshed each minute. */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** `on-demand · cloud · idle · 12 min · 0.02`, the pool linking to the cost page. */
export function InstanceSummary({ instance }: { instance: InstanceJson }) {
  const now = useNow();
  return (
    <span className="instance-summary">
      <span className="pill" title="an on-demand instance: started by a pool when work waits, stopped when idle">
        on-demand
      </span>{' '}
      <Link to="/cost">{instance.pool}</Link> <InstanceStateBadge state={instance.state} />{' '}
      <span className="muted nowrap" title="how long it has run, and what it has cost">
        {formatDuration(instanceAge(instance, now))}, {formatMoney(instance.cost)}
      </span>
    </span>
  );
}
