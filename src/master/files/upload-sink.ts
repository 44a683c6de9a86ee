/**
 * The master's end of file uploads (see the protocol's `upload_begin`,
 * upload frames, `upload_end`, `upload_skipped`): each upload is written to
 * `DATA_DIR/files/tmp/`, checked as it arrives, and on `upload_end` moved to
 * `DATA_DIR/files/BUILD_ID/STEP_ID/KIND/NAME` and recorded in the store.
 *
 * Everything the agent states is checked: the step must be running on that
 * worker, names must stay relative, frames must arrive at the announced
 * offsets and add up to the announced size, a file must fit the master's
 * `artifacts.max_file`. A lie closes the connection with a protocol error
 * naming it, and the connection's partial files are removed. Files past the
 * build's `artifacts.max_build` are not a lie (the agent cannot know what
 * earlier steps used): they are received, dropped and recorded as skipped.
 *
 * Checks that need no I/O run when the frame arrives, so the connection's
 * handler throws them as protocol errors; the I/O of each upload runs on its
 * own promise chain. `settled(stepId)` lets the coordinator wait for a
 * step's files before it decides the step's result.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { link, mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { ProtocolError, type UploadBegin, type UploadEnd, type UploadHeader, type UploadSkipped } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { StepFileKind, Store } from '../store/store.js';
import { formatSize as formatBytes } from '../config/units.js';
import { FILES_DIR, storedNameProblem, storedPath, TMP_DIR } from './stored-name.js';

/** What the sink needs. */
export interface UploadSinkDeps {
  store: Store;
  /** `master.data_dir`. */
  dataDir: string;
  clock: Clock;
  logger: Logger;
  /** `artifacts.max_file`: no upload may announce more. */
  maxFileBytes: number;
  /** `artifacts.max_build`: a build's stored files together. */
  maxBuildBytes: number;
}

/** Lets the sink slow a connection down while its disk writes lag behind. */
export interface UploadFlow {
  pause(): void;
  resume(): void;
}

/** One connection's uploads. Methods throw ProtocolError for what is wrong with a frame. */
export interface UploadReceiver {
  begin(message: UploadBegin): void;
  data(header: UploadHeader, bytes: Buffer): void;
  end(message: UploadEnd): void;
  skipped(message: UploadSkipped): void;
  /** The connection closed: uploads not ended are abandoned and their partial files removed. */
  close(): void;
}

/** Where a step's files go, once it is known to be running on the connection's worker. */
interface StepTarget {
  buildId: number;
}

/** One build's stored and reserved bytes, shared by its open uploads. */
interface BuildUsage {
  bytes: number;
  /** Open uploads counting on this tally. */
  users: number;
}

interface Upload {
  readonly id: number;
  readonly stepId: number;
  readonly kind: StepFileKind;
  readonly name: string;
  readonly size: number;
  /** Bytes accepted so far (checked synchronously, written on `work`). */
  received: number;
  /** Set when the bytes are not kept: why (recorded as skipped when it is a limit), or null for an upload nobody records. */
  drop: { reason: string | null } | null;
  target: StepTarget | null;
  tmp: string | null;
  handle: FileHandle | null;
  /** Bytes reserved against the build's limit (kept once stored). */
  reserved: number;
  /** It holds a place in the build's tally (released once, when it is done). */
  counted: boolean;
}

// More uploads open at once on one connection than any agent sends (it sends one per running step).
const MAX_OPEN_UPLOADS = 64;
// Pause reading the connection while this much received data waits for the disk; resume below the low mark.
const HIGH_WATER_BYTES = 16 * 1024 * 1024;
const LOW_WATER_BYTES = 4 * 1024 * 1024;

/** Receives uploads from every agent connection. */
export class UploadSink {
  readonly #deps: UploadSinkDeps;
  readonly #log: Logger;
  readonly #tmpDir: string;
  /** Work not yet done, by step: what `settled` waits for. */
  readonly #pending = new Map<number, Set<Promise<void>>>();
  /**
   * Bytes stored and reserved per build while uploads of it are open (seeded
   * from the store; dropped when its last open upload is done, so a build's
   * tally never goes stale).
   */
  readonly #buildBytes = new Map<number, Promise<BuildUsage>>();

  /** Creates the sink and removes partial uploads a previous master left in `files/tmp`. */
  constructor(deps: UploadSinkDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'uploads' });
    this.#tmpDir = join(deps.dataDir, FILES_DIR, TMP_DIR);
    mkdirSync(this.#tmpDir, { recursive: true });
    for (const entry of readdirSync(this.#tmpDir)) rmSync(join(this.#tmpDir, entry), { recursive: true, force: true });
  }

  /**
   * Resolves once every upload of the step received so far is written and
   * recorded (or abandoned); never rejects.
   */
  async settled(stepId: number): Promise<void> {
    for (;;) {
      const pending = this.#pending.get(stepId);
      if (!pending || pending.size === 0) break;
      await Promise.allSettled([...pending]);
    }
    this.#pending.delete(stepId);
  }

  /** The uploads of one connection from `worker`; `fail` closes it (a lie found after the fact). */
  receiver(worker: string, fail: (error: ProtocolError) => void, flow?: UploadFlow): UploadReceiver {
    const sink = this;
    const { store, clock } = this.#deps;
    const log = this.#log.child({ worker });
    const uploads = new Map<number, Upload>();
    const targets = new Map<number, Promise<StepTarget | null>>();
    const chains = new Map<number, Promise<void>>();
    let closed = false;
    let buffered = 0;
    let paused = false;

    /** The step's build, once it is known to run on this worker: null when it is not running (any more). */
    function targetOf(stepId: number): Promise<StepTarget | null> {
      let target = targets.get(stepId);
      if (!target) {
        target = (async () => {
          const step = await store.getStep(stepId);
          const build = step && (await store.getBuild(step.buildId));
          if (!step || !build || build.worker !== worker) {
            throw new ProtocolError(`files for step ${stepId}, which is not a step of a build on worker ${worker}`);
          }
          return step.state === 'running' ? { buildId: build.id } : null;
        })();
        targets.set(stepId, target);
      }
      return target;
    }

    /**
     * Queues `work` on the step's chain: a step's uploads are handled one
     * after another, in the order their frames arrived (the agent sends them
     * so), which keeps the build's limit and the recorded order exact. A
     * ProtocolError from it closes the connection; other errors are logged.
     */
    function queue(stepId: number, work: () => Promise<void>): void {
      const previous = chains.get(stepId) ?? Promise.resolve();
      const next = previous.then(work).catch((error: unknown) => {
        if (error instanceof ProtocolError) {
          if (!closed) fail(error);
        } else {
          log.error({ err: error, step: stepId }, 'storing an uploaded file failed');
        }
      });
      chains.set(stepId, next);
      let set = sink.#pending.get(stepId);
      if (!set) sink.#pending.set(stepId, (set = new Set()));
      set.add(next);
      void next.then(() => {
        set.delete(next);
        if (chains.get(stepId) === next) chains.delete(stepId);
      });
    }

    function checkName(what: string, name: string): void {
      const problem = storedNameProblem(name);
      if (problem) throw new ProtocolError(`${what}: file name ${JSON.stringify(name.slice(0, 200))} ${problem}`);
    }

    function openUpload(id: number, what: string): Upload {
      const upload = uploads.get(id);
      if (!upload) throw new ProtocolError(`${what} for upload ${id}, which is not open`);
      return upload;
    }

    /** Removes what was received of an upload whose bytes are not kept. */
    async function discard(upload: Upload): Promise<void> {
      await upload.handle?.close().catch(() => {});
      upload.handle = null;
      if (upload.tmp) await rm(upload.tmp, { force: true });
      upload.tmp = null;
    }

    /** The upload is done with (`kept`: its bytes are stored): its place in the build's tally goes. */
    async function release(upload: Upload, kept: boolean): Promise<void> {
      if (!upload.target || !upload.counted) return;
      upload.counted = false;
      const usage = await sink.#usage(upload.target.buildId);
      if (!kept) usage.bytes -= upload.reserved;
      if (--usage.users === 0) sink.#buildBytes.delete(upload.target.buildId);
    }

    /** Stores an ended upload (or records why not); true when its bytes are kept. */
    async function finish(upload: Upload, failed: string | undefined): Promise<boolean> {
      const reason = failed ?? upload.drop?.reason ?? undefined;
      if (reason !== undefined || !upload.target || !upload.handle || !upload.tmp) {
        await discard(upload);
        if (reason && upload.target) await sink.#recordSkipped(upload.target, upload, reason);
        return false;
      }
      await upload.handle.close();
      upload.handle = null;
      const relative = storedPath(upload.target.buildId, upload.stepId, upload.kind, upload.name);
      const final = join(sink.#deps.dataDir, relative);
      try {
        await mkdir(dirname(final), { recursive: true });
        // A hard link never replaces an existing file (rename would): a second file of one name is refused.
        await link(upload.tmp, final);
      } catch (error) {
        await discard(upload);
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new ProtocolError(`upload_end ${upload.id}: step ${upload.stepId} already has ${upload.kind} file ${upload.name}`);
        }
        log.error({ err: error, step: upload.stepId, name: upload.name }, 'cannot store an uploaded file');
        await sink.#recordSkipped(upload.target, upload, `the master could not store it: ${(error as Error).message}`);
        return false;
      }
      await discard(upload);
      const row = await store.addStepFile({
        buildId: upload.target.buildId,
        stepId: upload.stepId,
        kind: upload.kind,
        name: upload.name,
        size: upload.size,
        path: relative,
        createdAt: clock.now(),
        skipped: null,
      });
      if (!row) {
        // Announced as skipped earlier under the same name: the stored copy goes.
        await rm(final, { force: true });
        throw new ProtocolError(`upload_end ${upload.id}: step ${upload.stepId} already has ${upload.kind} file ${upload.name}`);
      }
      return true;
    }

    function setFlow(): void {
      if (!flow) return;
      if (!paused && buffered > HIGH_WATER_BYTES) {
        paused = true;
        flow.pause();
      } else if (paused && buffered < LOW_WATER_BYTES) {
        paused = false;
        flow.resume();
      }
    }

    return {
      begin(message) {
        // After a protocol error the connection is closing: what still arrives is ignored.
        if (closed) return;
        const what = `upload_begin ${message.upload_id}`;
        if (uploads.has(message.upload_id)) throw new ProtocolError(`${what}: upload ${message.upload_id} is already open`);
        if (uploads.size >= MAX_OPEN_UPLOADS) throw new ProtocolError(`${what}: more than ${MAX_OPEN_UPLOADS} uploads open at once`);
        checkName(what, message.name);
        if (message.size > sink.#deps.maxFileBytes) {
          throw new ProtocolError(
            `${what}: ${message.name} announces ${message.size} bytes, more than the master's limit of ${sink.#deps.maxFileBytes} per file (artifacts.max_file)`,
          );
        }
        const upload: Upload = {
          id: message.upload_id,
          stepId: message.step_id,
          kind: message.kind,
          name: message.name,
          size: message.size,
          received: 0,
          drop: null,
          target: null,
          tmp: null,
          handle: null,
          reserved: 0,
          counted: false,
        };
        uploads.set(upload.id, upload);
        queue(upload.stepId, async () => {
          const target = await targetOf(upload.stepId);
          if (closed) return;
          if (!target) {
            log.warn({ step: upload.stepId, name: upload.name }, 'a file arrived for a step that is no longer running; dropped');
            upload.drop = { reason: null };
            return;
          }
          upload.target = target;
          const usage = await sink.#usage(target.buildId);
          usage.users++;
          upload.counted = true;
          if (usage.bytes + upload.size > sink.#deps.maxBuildBytes) {
            upload.drop = { reason: `past the build's limit of ${formatBytes(sink.#deps.maxBuildBytes)} for its files (artifacts.max_build)` };
            return;
          }
          usage.bytes += upload.size;
          upload.reserved = upload.size;
          upload.tmp = join(sink.#tmpDir, `${upload.stepId}-${upload.id}-${randomBytes(6).toString('hex')}`);
          try {
            upload.handle = await open(upload.tmp, 'wx');
          } catch (error) {
            log.error({ err: error, step: upload.stepId, name: upload.name }, 'cannot write an uploaded file');
            upload.drop = { reason: `the master could not store it: ${(error as Error).message}` };
          }
        });
      },

      data(header, bytes) {
        // After a protocol error the connection is closing: what still arrives is ignored.
        if (closed) return;
        const upload = openUpload(header.upload_id, 'an upload frame');
        if (header.offset !== upload.received) {
          throw new ProtocolError(`upload ${upload.id} (${upload.name}): a frame at offset ${header.offset}, expected ${upload.received}`);
        }
        if (upload.received + bytes.length > upload.size) {
          throw new ProtocolError(`upload ${upload.id} (${upload.name}): ${upload.received + bytes.length} bytes, more than the ${upload.size} announced`);
        }
        upload.received += bytes.length;
        buffered += bytes.length;
        setFlow();
        queue(upload.stepId, async () => {
          try {
            if (upload.handle) await upload.handle.write(bytes, 0, bytes.length, header.offset);
          } finally {
            buffered -= bytes.length;
            setFlow();
          }
        });
      },

      end(message) {
        // After a protocol error the connection is closing: what still arrives is ignored.
        if (closed) return;
        const upload = openUpload(message.upload_id, 'upload_end');
        if (message.step_id !== upload.stepId) {
          throw new ProtocolError(`upload_end ${upload.id}: step ${message.step_id}, but the upload began for step ${upload.stepId}`);
        }
        if (message.failed === undefined && upload.received !== upload.size) {
          throw new ProtocolError(`upload_end ${upload.id} (${upload.name}): ${upload.received} bytes received of the ${upload.size} announced`);
        }
        uploads.delete(upload.id);
        queue(upload.stepId, async () => {
          let kept = false;
          try {
            kept = await finish(upload, message.failed);
          } finally {
            await release(upload, kept);
          }
        });
      },

      skipped(message) {
        // After a protocol error the connection is closing: what still arrives is ignored.
        if (closed) return;
        checkName(`upload_skipped of step ${message.step_id}`, message.name);
        queue(message.step_id, async () => {
          const target = await targetOf(message.step_id);
          if (!target || closed) return;
          await sink.#recordSkipped(target, { stepId: message.step_id, kind: message.kind, name: message.name, size: message.size }, message.reason);
        });
      },

      close() {
        if (closed) return;
        closed = true;
        if (paused) flow?.resume();
        for (const upload of uploads.values()) {
          queue(upload.stepId, async () => {
            await discard(upload);
            await release(upload, false);
          });
          log.info({ step: upload.stepId, name: upload.name, received: upload.received, size: upload.size }, 'connection closed during an upload; it is abandoned');
        }
        uploads.clear();
      },
    };
  }

  /** Records a file that was not stored; a second record of one name is a lie. */
  async #recordSkipped(
    target: StepTarget,
    file: { stepId: number; kind: StepFileKind; name: string; size: number },
    reason: string,
  ): Promise<void> {
    const row = await this.#deps.store.addStepFile({
      buildId: target.buildId,
      stepId: file.stepId,
      kind: file.kind,
      name: file.name,
      size: file.size,
      path: null,
      createdAt: this.#deps.clock.now(),
      skipped: reason,
    });
    if (!row) throw new ProtocolError(`step ${file.stepId} already has ${file.kind} file ${file.name}`);
  }

  /** The build's stored and reserved bytes: one shared, mutable tally per build. */
  #usage(buildId: number): Promise<BuildUsage> {
    let usage = this.#buildBytes.get(buildId);
    if (!usage) {
      usage = this.#deps.store.listStepFiles({ buildId }).then((files) => ({
        bytes: files.reduce((sum, f) => sum + (f.path === null ? 0 : f.size), 0),
        users: 0,
      }));
      // A failed read is not cached: the next upload tries again.
      usage.catch(() => this.#buildBytes.delete(buildId));
      this.#buildBytes.set(buildId, usage);
    }
    return usage;
  }
}
