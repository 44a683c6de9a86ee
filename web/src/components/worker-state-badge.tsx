/** A worker's state as a badge: icon and word on the state's colour. */
import { workerStateLook } from './worker-state.js';
import './farm-views.css';

/** The state badge; takes any state string (future states fall back to a neutral look). */
export function WorkerStateBadge({ state }: { state: string }) {
  const look = workerStateLook(state);
  return (
    <span className={`state state-${look.key}`} title={look.label}>
      <span aria-hidden="true">{look.icon}</span> {look.label}
    </span>
  );
}
