/**
 * Live updates: ONE server-sent-events stream (`/api/v1/events`) for the
 * whole app. Each event invalidates the queries it makes stale, so every view
 * refreshes itself without polling; components that need the events
 * themselves (a running step's log) subscribe with `useLiveEvent`.
 */
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
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
  'log:truncated',
  'change:new',
  'notify:failed',
] as const;

interface LiveState {
  connected: boolean;
  subscribe(listener: Listener): () => void;
}

const LiveContext = createContext<LiveState | null>(null);

/** What each event makes stale. Output events only concern open logs, which listen themselves. */
export function invalidateFor(client: QueryClient, name: string, data: LiveEvent): void {
  const buildId = typeof data.build_id === 'number' ? data.build_id : undefined;
  switch (name) {
    case 'build:queued':
    case 'request:cancelled':
      void client.invalidateQueries({ queryKey: queryKeys.requests });
      void client.invalidateQueries({ queryKey: queryKeys.overview });
      void client.invalidateQueries({ queryKey: queryKeys.buildersAll });
      break;
    case 'build:started':
    case 'build:finished':
      void client.invalidateQueries({ queryKey: queryKeys.buildsAll });
      void client.invalidateQueries({ queryKey: queryKeys.buildersAll });
      void client.invalidateQueries({ queryKey: queryKeys.requests });
      void client.invalidateQueries({ queryKey: queryKeys.overview });
      void client.invalidateQueries({ queryKey: queryKeys.grid });
      void client.invalidateQueries({ queryKey: queryKeys.workersAll });
      void client.invalidateQueries({ queryKey: queryKeys.changes });
      if (buildId !== undefined) void client.invalidateQueries({ queryKey: queryKeys.build(buildId) });
      break;
    case 'step:started':
    case 'step:finished':
    case 'log:truncated':
      if (buildId !== undefined) void client.invalidateQueries({ queryKey: queryKeys.build(buildId) });
      break;
    case 'worker:connected':
    case 'worker:disconnected':
    case 'worker:lost':
      void client.invalidateQueries({ queryKey: queryKeys.workersAll });
      void client.invalidateQueries({ queryKey: queryKeys.overview });
      break;
    case 'change:new':
      void client.invalidateQueries({ queryKey: queryKeys.changes });
      void client.invalidateQueries({ queryKey: queryKeys.grid });
      break;
    default:
      break;
  }
}

/** Opens the one event stream and keeps the query cache fresh from it. */
export function LiveEventsProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const listeners = useRef(new Set<Listener>());
  const [connected, setConnected] = useState(false);

  useEffect(() => {
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
        invalidateFor(client, name, data);
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
