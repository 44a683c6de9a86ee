/**
 * Injected time for the worker agent. Everything that decides a timeout (step
 * timeouts, output flushing, heartbeats, reconnect delays) takes a Clock, so
 * the decisions can be driven by `ManualClock` in tests instead of sleeping.
 */

/** A handle to cancel a scheduled callback. */
export interface TimerHandle {
  cancel(): void;
}

/** The agent's source of time. */
export interface Clock {
  now(): number;
  /** Calls `fn` once after `ms` milliseconds (or later; callers re-check deadlines). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

// Node fires timers longer than this immediately, so long step deadlines are
// scheduled in slices; callers compare `now()` with their deadline anyway.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Wall-clock time and Node's timers. The timers keep the process alive on
 * purpose: while the agent waits to reconnect, a timer is all it has.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, Math.max(0, Math.min(ms, LONGEST_TIMER_MS)));
    return { cancel: () => clearTimeout(timer) };
  },
};

/** A clock that only moves when told to; for tests. */
export class ManualClock implements Clock {
  #now: number;
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #nextId = 0;

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.push({ at: this.#now + ms, fn, id });
    return { cancel: () => (this.#timers = this.#timers.filter((t) => t.id !== id)) };
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.fn();
    }
    this.#now = target;
  }

  /** How many timers are waiting; lets tests assert nothing is left scheduled. */
  get pending(): number {
    return this.#timers.length;
  }
}
