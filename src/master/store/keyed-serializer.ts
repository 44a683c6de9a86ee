/**
 * Runs async tasks one at a time per key, in call order, while tasks under
 * different keys run concurrently. The store uses it so build numbering for
 * one builder never races inside one master process.
 */

/** A per-key queue of async tasks. */
export class KeyedSerializer {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` once every earlier task under `key` has settled; resolves or rejects as the task does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.#tails.set(key, tail);
    // Forget idle keys, so the map holds only builders with a start in flight.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
