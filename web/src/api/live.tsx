/**
 * Live updates: ONE server-sent-events stream (`/api/v1/events`) for the
 * whole app. Each event invalidates the queries it makes stale, so every view
 * refreshes itself without polling; components that need the events
 * themselves (a running step's log) subscribe with `useLiveEvent`.
 */
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { Batcher } from './batch.js';
import { queryKeys } from './queries.js';

/** The JSON summary the master sends with each event (snake_case ids, builder, number, result...). */
export type LiveEvent = Record<string, unknown>;
type Listener = (name: string, data: LiveEvent) => void;

/** The event names the master streams (see src/master/api/event-summary.ts). */
export const LIVE_EVENTS = [
  'build:queued',
  'build:started',
  'step:started',
  'step:output',
  'step:finished',
  'build:finished',
  'request:cancelled',
  'worker:connected',
  'worker:disconnected',
  'worker:lost',
  'worker:refused',
  'worker:state',
  'log:truncated',
  'change:new',
  'notify:failed',
  'application:submitted',
  'application:decided',
  'worker:retired',
] as const;

interface LiveState {
  connected: boolean;
  subscribe(listener: Listener): () => void;
}

const LiveContext = createContext<LiveState | null>(null);

/** A query key family to refresh. */
type Key = readonly unknown[];

/** What each event makes stale. Output events only concern open logs, which listen themselves. */
export function staleKeys(name: string, data: LiveEvent): Key[] {
  const keys: Key[] = [];
  const stale = (key: Key) => keys.push(key);
  const buildId = typeof data.build_id === 'number' ? data.build_id : undefined;
  switch (name) {
    case 'build:queued':
    case 'request:cancelled':
      stale(queryKeys.requests);
      stale(queryKeys.overview);
      stale(queryKeys.buildersAll);
      break;
    case 'build:started':
    case 'build:finished':
      stale(queryKeys.buildsAll);
      stale(queryKeys.buildersAll);
      stale(queryKeys.requests);
      stale(queryKeys.overview);
      stale(queryKeys.grid);
      stale(queryKeys.workersAll);
      stale(queryKeys.changes);
      // A finished build's test results join the tests' histories.
      stale(queryKeys.testsAll);
      if (buildId !== undefined) stale(queryKeys.build(buildId));
      break;
    case 'step:started':
    case 'step:finished':
    case 'log:truncated':
      if (buildId !== undefined) stale(queryKeys.build(buildId));
      break;
    case 'worker:connected':
    case 'worker:disconnected':
    case 'worker:lost':
    case 'worker:state':
      stale(queryKeys.workersAll);
      stale(queryKeys.overview);
      break;
    case 'change:new':
      stale(queryKeys.changes);
      stale(queryKeys.grid);
      break;
    case 'application:submitted':
      stale(queryKeys.applications);
      break;
    case 'application:decided':
      // Approval creates a worker.
      stale(queryKeys.applications);
      stale(queryKeys.workersAll);
      stale(queryKeys.overview);
      break;
    case 'worker:retired':
      stale(queryKeys.workersAll);
      stale(queryKeys.overview);
      break;
    default:
      break;
  }
  return keys;
}

/** Opens the one event stream and keeps the query cache fresh from it. */
export function LiveEventsProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const listeners = useRef(new Set<Listener>());
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    // Bursts of events refresh each query once, at most twice a second.
    const batcher = new Batcher<Key>(500, (keys) => {
      for (const queryKey of keys) void client.invalidateQueries({ queryKey });
    });
    // EventSource reconnects by itself (the master sends `retry: 2000`).
    const source = new EventSource('/api/v1/events');
    let everOpened = false;
    source.onopen = () => {
      setConnected(true);
      // After a reconnect, whatever happened meanwhile was missed: refresh everything.
      if (everOpened) void client.invalidateQueries();
      everOpened = true;
    };
    source.onerror = () => setConnected(false);
    for (const name of LIVE_EVENTS) {
      source.addEventListener(name, (message) => {
        let data: LiveEvent = {};
        try {
          data = JSON.parse((message as MessageEvent<string>).data) as LiveEvent;
        } catch {
          return;
        }
        for (const key of staleKeys(name, data)) batcher.add(JSON.stringify(key), key);
        for (const listener of listeners.current) listener(name, data);
      });
    }
    return () => source.close();
  }, [client]);

  const value = useRef<LiveState>({
    connected: false,
    subscribe(listener) {
      listeners.current.add(listener);
      return () => listeners.current.delete(listener);
    },
  });
  value.current = { ...value.current, connected };
  return <LiveContext.Provider value={value.current}>{children}</LiveContext.Provider>;
}

/** Whether the live stream is connected (shown in the header). */
export function useLiveConnected(): boolean {
  return useContext(LiveContext)?.connected ?? false;
}

/** Calls `handler` for every live event (keep it cheap; it runs for every event of the farm). */
export function useLiveEvent(handler: (name: string, data: LiveEvent) => void): void {
  const live = useContext(LiveContext);
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => live?.subscribe((name, data) => latest.current(name, data)), [live]);
}
