/**
 * A step's log as a stream of bytes: a stored range, or (follow) what is
 * stored followed by live output until the step ends. Never holds more of a
 * log in memory than the chunks in flight.
 *
 * Following without losing or repeating a byte: subscribe to the step's
 * output first, then read the log up to its current length (which includes
 * output received but not yet stored), then send the buffered and live
 * output, skipping by offset whatever was already sent.
 */
import type { MasterControl } from './control.js';

/** Which part of the log, and whether to keep following it. */
export interface LogStreamOptions {
  start: number;
  /** Byte after the last one to send; undefined: to the end. */
  end: number | undefined;
  follow: boolean;
  /** Aborted when the client goes away: a follower stops waiting and unsubscribes. */
  signal: AbortSignal;
}

/** The step (and its build) whose log to stream. */
export interface LogTarget {
  stepId: number;
  buildId: number;
}

/** Streams a step's log per `options`. */
export function streamStepLog(
  control: Pick<MasterControl, 'events' | 'store' | 'logLength' | 'readLog'>,
  target: LogTarget,
  options: LogStreamOptions,
): AsyncIterable<Buffer> {
  if (!options.follow) return control.readLog(target.stepId, options.start, options.end);
  return followStepLog(control, target, options);
}

async function* followStepLog(
  control: Pick<MasterControl, 'events' | 'store' | 'logLength' | 'readLog'>,
  { stepId, buildId }: LogTarget,
  { start, end, signal }: LogStreamOptions,
): AsyncGenerator<Buffer> {
  const limit = end ?? Number.POSITIVE_INFINITY;
  const live: { offset: number; data: Buffer }[] = [];
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const unsubscribe = [
    control.events.on('step:output', (event) => {
      if (event.stepId !== stepId) return;
      live.push({ offset: event.offset, data: event.data });
      notify();
    }),
    control.events.on('step:finished', (event) => {
      if (event.step.id !== stepId) return;
      finished = true;
      notify();
    }),
    // A step that never runs (the build halted or was lost) has no step:finished of its own.
    control.events.on('build:finished', (event) => {
      if (event.build.id !== buildId) return;
      finished = true;
      notify();
    }),
  ];
  signal.addEventListener('abort', notify);

  let sent = start;
  async function* stored(to: number): AsyncGenerator<Buffer> {
    if (sent >= to) return;
    for await (const chunk of control.readLog(stepId, sent, to)) {
      sent += chunk.length;
      yield chunk;
    }
  }

  try {
    // Checked after subscribing, so an end between the check and the subscription cannot be missed.
    const [step, build] = await Promise.all([control.store.getStep(stepId), control.store.getBuild(buildId)]);
    if (step?.state === 'finished' || build?.state === 'finished') finished = true;

    yield* stored(Math.min(await control.logLength(stepId), limit));
    for (;;) {
      if (signal.aborted || sent >= limit) return;
      while (live.length > 0) {
        const { offset, data } = live.shift()!;
        if (offset + data.length <= sent) continue;
        // Output we have not seen yet before this chunk: it is in the log (stored or pending).
        if (offset > sent) yield* stored(Math.min(offset, limit));
        if (sent >= limit) return;
        // The log could not fill the gap (it always should): resume at the live bytes rather than stall.
        if (sent < offset) sent = offset;
        const piece = data.subarray(sent - offset, Math.min(data.length, limit - offset));
        sent += piece.length;
        yield piece;
        if (signal.aborted || sent >= limit) return;
      }
      if (finished) {
        yield* stored(Math.min(await control.logLength(stepId), limit));
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    for (const off of unsubscribe) off();
    signal.removeEventListener('abort', notify);
  }
}
