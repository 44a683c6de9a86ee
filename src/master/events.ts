/**
 * The master's one typed event map. The API's live streams, metrics and later
 * features (notifiers, health, the web UI) subscribe here instead of being
 * called directly by the code that makes things happen.
 */
import { EventEmitter } from 'node:events';
import type { Build, BuildRequest, Change, Result, Step } from './domain.js';
import type { Application, RegisteredWorker } from './store/store.js';

/** Every lifecycle event the master emits, with its payload. */
export interface MasterEvents {
  /** A new change was stored (from polling or a webhook). */
  'change:new': { change: Change };
  'build:queued': { request: BuildRequest };
  'build:started': { build: Build; request: BuildRequest };
  'step:started': { build: Build; step: Step };
  /** Output stored for a step; `offset` is the byte offset of `data` in the log. */
  'step:output': { buildId: number; stepId: number; offset: number; data: Buffer };
  'step:finished': { build: Build; step: Step; durationMs: number };
  'build:finished': { build: Build; request: BuildRequest; requeued: boolean };
  'request:cancelled': { request: BuildRequest };
  'worker:connected': { worker: string; info: Record<string, unknown> };
  'worker:disconnected': { worker: string; reason: string };
  /** A worker's builds were given up after `worker_lost_after`. */
  'worker:lost': { worker: string; builds: number[] };
  'worker:refused': { name: string; code: string; reason: string; remote: string };
  'log:truncated': { stepId: number; limit: number };
  /** A worker's fleet state changed (offline → missing → orphaned, paused, back). */
  'worker:state': { worker: string; from: string; to: string };
  /** A volunteer proposed a worker (`shepherd join`, the web form). */
  'application:submitted': { application: Application };
  /** An operator approved (the worker now exists) or declined an application. */
  'application:decided': { application: Application };
  /** A registered worker was retired: it can no longer connect; its history stays. */
  'worker:retired': { worker: RegisteredWorker };
  /** A notifier gave up on a delivery after its retries. */
  'notify:failed': { notifier: string; buildId: number; error: string };
}

/** Event names. */
export type MasterEventName = keyof MasterEvents;

/** A typed wrapper around EventEmitter. Listeners must not throw; errors are reported to `onListenerError`. */
export class MasterEventBus {
  readonly #emitter = new EventEmitter({ captureRejections: false });

  constructor(private readonly onListenerError: (event: string, error: unknown) => void = () => {}) {
    this.#emitter.setMaxListeners(0);
  }

  on<E extends MasterEventName>(event: E, listener: (payload: MasterEvents[E]) => void): () => void {
    const safe = (payload: MasterEvents[E]) => {
      try {
        listener(payload);
      } catch (error) {
        this.onListenerError(event, error);
      }
    };
    this.#emitter.on(event, safe);
    return () => this.#emitter.off(event, safe);
  }

  emit<E extends MasterEventName>(event: E, payload: MasterEvents[E]): void {
    this.#emitter.emit(event, payload);
  }

  /** Resolves with the first payload for which `match` holds (for tests and `--wait`). */
  once<E extends MasterEventName>(event: E, match: (payload: MasterEvents[E]) => boolean = () => true): Promise<MasterEvents[E]> {
    return new Promise((resolve) => {
      const off = this.on(event, (payload) => {
        if (match(payload)) {
          off();
          resolve(payload);
        }
      });
    });
  }
}

export type { Result };
