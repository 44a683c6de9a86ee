/**
 * Long-running commands (`master`, `worker`) stop cleanly on SIGINT or
 * SIGTERM; a second signal gives up waiting and exits at once.
 */
import { note } from './output.js';

/** Resolves at the first SIGINT/SIGTERM; a second one exits with status 1. */
export function untilStopSignal(what: string): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        note(`shepherd ${what}: ${signal} again, exiting without waiting`);
        process.exit(1);
      }
      stopping = true;
      note(`shepherd ${what}: ${signal}, stopping`);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
