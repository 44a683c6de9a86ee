/**
 * The hooks that tie the log loader and the search to React: one loader per
 * step, fed by the step's state (from the build query) and by live
 * `step:output` events; a search that runs a slice at a time between frames.
 */
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { StepJson } from '../api/client.js';
import { fetchLogBytes } from '../api/client.js';
import { useLiveEvent } from '../api/live.js';
import { LogLoader } from './loader.js';
import { LogSearch } from './search.js';

/** A macrotask, so the browser draws and handles input (MessageChannel: not throttled like timers in background tabs). */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** The least time between two redraws caused by loading. */
const RENDER_MS = 250;

/** The loader of `step`'s log (null for a moment while it is created) and a version that changes with it. */
export function useLogLoader(step: StepJson): { loader: LogLoader | null; version: number } {
  const [loader, setLoader] = useState<LogLoader | null>(null);
  useEffect(() => {
    const stepId = step.id;
    const created = new LogLoader({
      fetchRange: (start, end, signal) => fetchLogBytes(stepId, start, end, signal),
      pause: nextMacrotask,
    });
    setLoader(created);
    return () => created.dispose();
  }, [step.id]);

  // What the build query says: how long the log is, and whether it can still grow.
  const finished = step.state === 'finished';
  useEffect(() => {
    if (!loader) return;
    if (finished) loader.finish(step.log.bytes);
    else loader.grow(step.log.bytes);
  }, [loader, finished, step.log.bytes]);

  // Live output of a running step: the log is at least offset + length long now.
  useLiveEvent((name, data) => {
    if (name !== 'step:output' || !loader || data.step_id !== step.id) return;
    const { offset, length } = data;
    if (typeof offset === 'number' && typeof length === 'number') loader.grow(offset + length);
  });

  // The view redraws at most every RENDER_MS while ranges arrive: the loading goes on between redraws.
  const subscribe = useCallback(
    (listener: () => void) => {
      if (!loader) return () => {};
      let timer: ReturnType<typeof setTimeout> | null = null;
      let last = 0;
      const unsubscribe = loader.subscribe(() => {
        if (timer !== null) return;
        timer = setTimeout(
          () => {
            timer = null;
            last = performance.now();
            listener();
          },
          Math.max(0, last + RENDER_MS - performance.now()),
        );
      });
      return () => {
        unsubscribe();
        if (timer !== null) clearTimeout(timer);
      };
    },
    [loader],
  );
  const version = useSyncExternalStore(subscribe, () => loader?.version ?? -1);
  return { loader, version };
}

/** Lines searched per slice before giving the page back. */
const SLICE_LINES = 40_000;

/** Searches the loaded lines for `query`, continuing as lines arrive; `tick` changes as matches are found. */
export function useLogSearch(loader: LogLoader | null, query: string, version: number): { search: LogSearch | null; tick: number; searching: boolean } {
  const [search, setSearch] = useState<LogSearch | null>(null);
  const [tick, setTick] = useState(0);
  const [searching, setSearching] = useState(false);

  useEffect(() => {
    setSearch(query.trim() === '' || !loader ? null : new LogSearch(query));
  }, [query, loader]);

  useEffect(() => {
    if (!search || !loader) return;
    const lines = loader.text.lines;
    if (search.scanned >= lines.length) return;
    let cancelled = false;
    setSearching(true);
    void (async () => {
      while (!cancelled && !search.step(lines, SLICE_LINES)) {
        setTick((t) => t + 1);
        await nextMacrotask();
      }
      if (cancelled) return;
      setTick((t) => t + 1);
      setSearching(false);
    })();
    return () => {
      cancelled = true;
      setSearching(false);
    };
  }, [search, loader, version]);

  return { search, tick, searching };
}
