/**
 * The simulator's agenda: events ordered by time, then by when they were
 * scheduled (a binary heap, so weeks of a farm's builds stay fast).
 */

interface Entry<E> {
  at: number;
  seq: number;
  event: E;
}

/** A time-ordered queue of events; equal times come out in scheduling order. */
export class EventQueue<E> {
  #heap: Entry<E>[] = [];
  #seq = 0;

  /** Schedules `event` at `at`. */
  push(at: number, event: E): void {
    const heap = this.#heap;
    heap.push({ at, seq: this.#seq++, event });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** The earliest event, removed (undefined when empty). */
  pop(): { at: number; event: E } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (!top) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return { at: top.at, event: top.event };
  }

  /** How many events wait. */
  get size(): number {
    return this.#heap.length;
  }
}

function before<E>(a: Entry<E>, b: Entry<E>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
