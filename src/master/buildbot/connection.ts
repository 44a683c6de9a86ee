/**
 * A Buildbot worker as a `ConnectedWorker`: each Shepherd step becomes a
 * short series of Buildbot remote commands (`rmdir`/`mkdir` of its
 * directories, `download_file` of its files, `shell`, then `stat` and
 * `upload_file` of its properties file, and `glob`/`stat`/`upload_file` of
 * the files it collects, or one `upload_directory` for a glob that names a
 * whole tree, see directory-upload.ts), so that a build behaves, and logs, as on a
 * Shepherd agent. Output is not resumable: a Buildbot worker that loses its
 * connection kills its command, and the coordinator retries the build.
 */
import { posix, win32 } from 'node:path';
import type { Logger } from 'pino';
import {
  formatBytes,
  globMatcher,
  globProblem,
  MAX_PROPERTIES_BYTES,
  parseStepProperties,
  planUploads,
  PROPERTIES_FILE,
  ProtocolError,
  STEP_DIR_ENV,
  type CollectEntry,
  type FoundFile,
  type PlannedFile,
  type StepCommand,
  type StepOutcome,
  type WorkerInfo,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { UploadReceiver, UploadSink } from '../files/upload-sink.js';
import type { ConnectedWorker, WorkerCapabilities, WorkerSessionHandler } from '../workers/connected-worker.js';
import { readTarEntries, tarByteCap, TarSpool, treeGlobDir, type TarFile } from './directory-upload.js';
import { RemoteCommands, updateText, type CommandEnd, type CommandHandlers } from './remote-commands.js';
import { ConnectionClosedError, type MsgpackSession } from './session.js';
import { OutputTranslator, pythonGlob, shellArgs, shellOutcome, stepPaths, type StepPaths } from './step-plan.js';

/** What a Buildbot connection needs from the master. */
export interface BuildbotConnectionDeps {
  handler: WorkerSessionHandler;
  logger: Logger;
  clock: Clock;
  /** Where collected files go (absent: they are not collected, and the step's log says so). */
  sink?: Pick<UploadSink, 'receiver' | 'settled'>;
  /** Seconds between SIGTERM and SIGKILL when the worker ends a command. */
  sigtermSeconds?: number;
}

/** Where a connection's worker keeps its steps, from its `get_worker_info`. */
export interface WorkerLayout {
  basedir: string;
  windows: boolean;
}

interface RunningStep {
  readonly id: number;
  readonly builder: string;
  seq: number;
  lastByte: number;
  /** Set by `cancel`: why. */
  cancelled: string | null;
  /** The running `shell` command's id, while it runs. */
  shellId: string | null;
}

const NEWLINE = 0x0a;

/** Where a collected file's bytes are: on the worker (`upload_file` of `path`), or in a received archive. */
type FileSource = { spool: TarSpool; file: TarFile };

/** What one collect entry's globs found. */
interface Found {
  files: FoundFile[];
  problems: string[];
  /** Files found in a directory archive, by name (the others are read on the worker). */
  inArchive: Map<string, FileSource>;
  /** Archives received for the entry; removed once its files are sent. */
  spools: TarSpool[];
}

// Each glob, stat and upload is a round trip: bound the work one step's collect can cause.
const MAX_FILES_PER_ENTRY = 1000;
const BLOCK_BYTES = 64 * 1024;
// `upload_file`'s maxsize is one more than the size wanted: the worker fails a file that reaches its maxsize exactly.
// Modes in `stat` answers (Python's os.stat tuple: mode first, size seventh).
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** One authenticated Buildbot worker connection. */
export class BuildbotConnection implements ConnectedWorker {
  readonly protocol = 'buildbot' as const;
  readonly capabilities: WorkerCapabilities = { resumableOutput: false };
  readonly #session: MsgpackSession;
  readonly #commands: RemoteCommands;
  readonly #layout: WorkerLayout;
  readonly #deps: BuildbotConnectionDeps;
  readonly #steps = new Map<number, RunningStep>();
  /** Steps' own directories on the worker, until the master releases the step. */
  readonly #stepDirs = new Map<number, { builder: string; path: string }>();
  readonly #uploads: UploadReceiver | null;
  #lastUploadId = 0;

  constructor(
    readonly name: string,
    readonly info: WorkerInfo,
    readonly remote: string,
    session: MsgpackSession,
    commands: RemoteCommands,
    layout: WorkerLayout,
    deps: BuildbotConnectionDeps,
    flow?: { pause(): void; resume(): void },
  ) {
    this.#session = session;
    this.#commands = commands;
    this.#layout = layout;
    this.#deps = deps;
    this.#uploads = deps.sink?.receiver(name, (error) => session.close(error.message, 1008), flow) ?? null;
  }

  startStep(stepId: number, buildId: number, command: StepCommand): void {
    if (this.#steps.has(stepId)) return;
    const step: RunningStep = { id: stepId, builder: command.builder_dir, seq: 0, lastByte: NEWLINE, cancelled: null, shellId: null };
    this.#steps.set(stepId, step);
    this.#run(step, command)
      .catch((error: unknown) => {
        if (error instanceof ConnectionClosedError || this.#session.closed) {
          // The connection went away mid-step: the coordinator hears of it through detach.
          this.#deps.logger.info({ worker: this.name, step: stepId, build: buildId, reason: (error as Error).message }, 'buildbot step abandoned');
          return;
        }
        this.#deps.logger.error({ err: error, worker: this.name, step: stepId }, 'running a step on a buildbot worker failed');
        const message = `internal error on the master: ${(error as Error).message}`;
        this.#say(step, message);
        this.#finish(step, { exit_code: null, signal: null, duration_ms: 0, ended_by: null, spawn_error: message }, {});
      })
      .finally(() => this.#steps.delete(stepId));
  }

  /** Output is stored as it comes; a Buildbot worker resends nothing, so there is nothing to acknowledge. */
  ack(): void {}

  /** The master has recorded the step: its own directory goes, as the agent removes it on release. */
  release(stepId: number): void {
    const dir = this.#stepDirs.get(stepId);
    if (!dir || this.#steps.has(stepId)) return;
    this.#stepDirs.delete(stepId);
    this.#commands.start(dir.builder, 'rmdir', { paths: [dir.path], logEnviron: false, timeout: 120 }).done.catch(() => {});
  }

  cancel(stepId: number, reason: string): void {
    const step = this.#steps.get(stepId);
    if (!step || step.cancelled !== null) return;
    step.cancelled = reason;
    if (step.shellId !== null) {
      this.#say(step, `cancelled: ${reason}: interrupting the command on the Buildbot worker`);
      void this.#commands.interrupt(step.builder, step.shellId, reason);
    }
  }

  close(reason: string): void {
    this.#session.close(reason);
  }

  /** The connection ended: commands still running are abandoned, partial uploads removed. */
  ended(reason: string): void {
    this.#commands.closeAll(reason);
    this.#uploads?.close();
  }

  // ------------------------------------------------------------------ one step

  #emit(step: RunningStep, data: Buffer): void {
    if (data.length === 0) return;
    step.lastByte = data[data.length - 1]!;
    this.#deps.handler.output(this, step.id, ++step.seq, data);
  }

  /** A line of the master's own, on a fresh line, as the agent writes its `[shepherd]` lines. */
  #say(step: RunningStep, text: string): void {
    this.#emit(step, Buffer.from(`${step.lastByte === NEWLINE ? '' : '\n'}[shepherd] ${text}\n`));
  }

  #finish(step: RunningStep, outcome: StepOutcome, properties: Record<string, string>): void {
    this.#deps.handler.stepFinished(this, step.id, step.seq, outcome, properties);
  }

  /** Runs a command and waits for its end; rejects only when the connection closes. */
  #command(step: RunningStep, name: string, args: Record<string, unknown>, handlers?: CommandHandlers): Promise<CommandEnd> {
    return this.#commands.start(step.builder, name, args, handlers).done;
  }

  async #run(step: RunningStep, command: StepCommand): Promise<void> {
    const startedAt = this.#deps.clock.now();
    const notStarted = (message: string) => {
      this.#say(step, `cannot start the step: ${message}`);
      this.#finish(step, { exit_code: null, signal: null, duration_ms: this.#deps.clock.now() - startedAt, ended_by: null, spawn_error: message }, {});
    };
    let paths: StepPaths;
    try {
      paths = stepPaths(this.#layout.basedir, this.#layout.windows, command, step.id);
    } catch (error) {
      notStarted((error as Error).message);
      return;
    }

    this.#stepDirs.set(step.id, { builder: step.builder, path: paths.stepDir });
    // The step's own directory starts empty, as on the agent.
    const cleared = await this.#command(step, 'rmdir', { paths: [paths.stepDir], logEnviron: false, timeout: 120 });
    const made = cleared.rc === 0 ? await this.#command(step, 'mkdir', { paths: [paths.builderDir, paths.workdir, paths.stepDir], logEnviron: false }) : cleared;
    if (made.rc !== 0 || made.failure) {
      notStarted(`cannot make its directories on the worker: ${describeFailure(made)}`);
      return;
    }
    for (const file of command.files ?? []) {
      if (file.name === '.' || file.name === '..') {
        notStarted(`the master sent a file named ${JSON.stringify(file.name)}`);
        return;
      }
      const data = Buffer.from(file.data_base64, 'base64');
      let offset = 0;
      const written = await this.#command(step, 'download_file', { path: join(this.#layout, paths.stepDir, file.name), maxsize: null, blocksize: BLOCK_BYTES, mode: null }, {
        read: (length) => {
          const block = data.subarray(offset, offset + length);
          offset += block.length;
          return block;
        },
      });
      if (written.rc !== 0 || written.failure) {
        notStarted(`cannot write ${file.name} into $${STEP_DIR_ENV}: ${describeFailure(written)}`);
        return;
      }
    }
    if (step.cancelled !== null) {
      this.#say(step, `cancelled: ${step.cancelled}: the step is not started`);
      this.#finish(step, { exit_code: null, signal: null, duration_ms: this.#deps.clock.now() - startedAt, ended_by: 'cancel', spawn_error: null }, {});
      return;
    }

    const translator = new OutputTranslator();
    const shell = this.#commands.start(step.builder, 'shell', shellArgs(command, paths, this.#deps.sigtermSeconds ?? 10), {
      update: (key, value) => {
        if (key !== 'stdout' && key !== 'stderr' && key !== 'rc') return;
        const bytes = translator.bytes(key, key === 'rc' ? '' : updateText(value));
        if (bytes) this.#emit(step, bytes);
      },
    });
    step.shellId = shell.id;
    const end = await shell.done;
    step.shellId = null;
    const outcome = shellOutcome(end, { cancelled: step.cancelled !== null, fallbackMs: this.#deps.clock.now() - startedAt });
    if (outcome.spawn_error) this.#say(step, `cannot start the step: ${outcome.spawn_error}`);
    if (outcome.ended_by === 'timeout' || outcome.ended_by === 'max_time') {
      this.#say(step, `${outcome.ended_by === 'timeout' ? 'no output for too long' : 'still running at its max_time'}: the Buildbot worker killed the command (${end.headers.find((h) => h.includes('timed out'))?.trim() ?? 'timed out'})`);
    }

    const properties = await this.#readProperties(step, paths);
    const collect = command.collect ?? [];
    if (collect.length > 0 && outcome.ended_by !== 'cancel' && outcome.spawn_error === null) {
      await this.#collect(step, collect, paths);
      await this.#deps.sink?.settled(step.id);
    }
    this.#finish(step, outcome, properties);
  }

  /** The properties the step wrote to `$SHEPHERD_STEP_DIR/properties`, parsed as the agent parses them. */
  async #readProperties(step: RunningStep, paths: StepPaths): Promise<Record<string, string>> {
    const path = join(this.#layout, paths.stepDir, PROPERTIES_FILE);
    const stat = statOf(await this.#command(step, 'stat', { path }));
    if (!stat) return {};
    const where = `$${STEP_DIR_ENV}/${PROPERTIES_FILE}`;
    if (!stat.regular) {
      this.#say(step, `${where} is not a regular file; it is ignored`);
      return {};
    }
    if (stat.size > MAX_PROPERTIES_BYTES) {
      this.#say(step, `${where} is larger than ${MAX_PROPERTIES_BYTES / 1024} KiB; it is ignored`);
      return {};
    }
    const blocks: Buffer[] = [];
    const read = await this.#command(step, 'upload_file', { path, maxsize: MAX_PROPERTIES_BYTES + 1, blocksize: BLOCK_BYTES, keepstamp: false }, {
      write: (data) => {
        blocks.push(data);
      },
    });
    if (read.rc !== 0 || read.failure) {
      this.#say(step, `cannot read ${where}: ${describeFailure(read)}`);
      return {};
    }
    const parsed = parseStepProperties(Buffer.concat(blocks).toString('utf8'));
    for (const problem of parsed.problems) this.#say(step, problem);
    return parsed.properties;
  }

  /** Finds, plans and sends the step's files, with the agent's notes in the step's log. */
  async #collect(step: RunningStep, collect: readonly CollectEntry[], paths: StepPaths): Promise<void> {
    if (!this.#uploads) {
      this.#say(step, 'this master stores no files: the step\'s files are not collected');
      return;
    }
    for (const entry of collect) {
      const found: Found = { files: [], problems: [], inArchive: new Map(), spools: [] };
      try {
        await this.#find(step, paths, entry, found);
        await this.#collectEntry(step, entry, found);
      } finally {
        await Promise.all(found.spools.map((spool) => spool.remove()));
      }
    }
  }

  /** Plans one entry's found files and sends them, with the agent's notes. */
  async #collectEntry(step: RunningStep, entry: CollectEntry, { files, problems, inArchive }: Found): Promise<void> {
    const what = entry.kind === 'artifact' ? 'artifacts' : 'test results';
    const planned = planUploads(entry, files.slice(0, MAX_FILES_PER_ENTRY));
    const skipped = planned.filter((f) => f.skip);
    if (files.length === 0) this.#say(step, `${what}: no file matched ${entry.globs.join(', ')}`);
    else this.#say(step, `${what}: sending ${planned.length - skipped.length} file(s)${skipped.length ? `, skipping ${skipped.length}` : ''}`);
    if (files.length > planned.length) this.#say(step, `${what}: only the first ${MAX_FILES_PER_ENTRY} files are collected`);
    for (const file of skipped) this.#say(step, `${what}: skipping ${file.name} (${formatBytes(file.size)}): ${file.skip}`);
    for (const problem of problems) this.#say(step, `${what}: ${problem}`);
    for (const file of planned) {
      try {
        await this.#send(step, file, inArchive.get(file.name));
      } catch (error) {
        if (error instanceof ConnectionClosedError) throw error;
        this.#say(step, `${what}: ${file.name}: ${(error as Error).message}`);
      }
    }
  }

  /**
   * The regular files the entry's globs match under the working directory,
   * by name, each once: a glob naming a whole tree through one archive of
   * it, any other (or a tree whose archive could not be had) file by file.
   */
  async #find(step: RunningStep, paths: StepPaths, entry: CollectEntry, into: Found): Promise<void> {
    const { relative, sep } = this.#layout.windows ? win32 : posix;
    const found = new Map<string, FoundFile>();
    const problems = into.problems;
    for (const glob of entry.globs) {
      const problem = globProblem(glob);
      if (problem) {
        problems.push(problem);
        continue;
      }
      const matches = globMatcher(glob);
      const dir = treeGlobDir(glob);
      if (dir && (await this.#findInArchive(step, paths, entry, dir, matches, found, into))) continue;
      const listed = await this.#command(step, 'glob', { path: join(this.#layout, paths.workdir, pythonGlob(glob)) });
      const list = listed.values.get('files');
      if (listed.rc !== 0 || !Array.isArray(list)) {
        problems.push(`cannot search for ${glob}: ${describeFailure(listed)}`);
        continue;
      }
      for (const match of list) {
        if (typeof match !== 'string' || found.size >= MAX_FILES_PER_ENTRY) continue;
        const name = relative(paths.workdir, match).split(sep).join('/');
        if (found.has(name) || !matches(name)) continue;
        const stat = statOf(await this.#command(step, 'stat', { path: match }));
        if (stat?.regular) found.set(name, { name, path: match, size: stat.size });
      }
    }
    into.files = [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Finds a tree's files through one `upload_directory` of `dir`; false when
   * the archive could not be had (no such directory, larger than its cap, a
   * failure on the worker), so that the caller looks file by file instead.
   */
  async #findInArchive(
    step: RunningStep,
    paths: StepPaths,
    entry: CollectEntry,
    dir: readonly string[],
    matches: (name: string) => boolean,
    found: Map<string, FoundFile>,
    into: Found,
  ): Promise<boolean> {
    const where = dir.join('/');
    const spool = await TarSpool.create(tarByteCap(entry));
    into.spools.push(spool);
    const sent = await this.#command(step, 'upload_directory', {
      path: join(this.#layout, paths.workdir, dir.join(this.#layout.windows ? '\\' : '/')),
      maxsize: spool.cap,
      blocksize: BLOCK_BYTES,
      compress: null,
    }, { write: (data) => spool.write(data) });
    await spool.complete();
    if (sent.rc !== 0 || sent.failure) {
      this.#deps.logger.info({ worker: this.name, step: step.id, dir: where, received: spool.bytes, reason: describeFailure(sent) }, 'no archive of a collected directory; collecting its files one by one');
      return false;
    }
    let archive: Awaited<ReturnType<typeof readTarEntries>>;
    try {
      archive = await readTarEntries(spool.read(), dir);
    } catch (error) {
      into.problems.push(`cannot read the archive of ${where} the worker sent: ${(error as Error).message}`);
      return true;
    }
    into.problems.push(...archive.problems);
    for (const file of archive.files) {
      if (found.size >= MAX_FILES_PER_ENTRY) break;
      if (found.has(file.name) || !matches(file.name)) continue;
      found.set(file.name, { name: file.name, path: `${where} (archive)`, size: file.size });
      into.inArchive.set(file.name, { spool, file });
    }
    return true;
  }

  /** Sends one planned file to the upload sink (announced as skipped when the limits leave it out). */
  async #send(step: RunningStep, file: PlannedFile, source?: FileSource): Promise<void> {
    const uploads = this.#uploads!;
    const { kind, name, size } = file;
    if (file.skip) {
      guard(() => uploads.skipped({ type: 'upload_skipped', step_id: step.id, kind, name, size, reason: file.skip! }));
      return;
    }
    const uploadId = ++this.#lastUploadId;
    guard(() => uploads.begin({ type: 'upload_begin', step_id: step.id, upload_id: uploadId, kind, name, size }));
    if (source) {
      await this.#sendFromArchive(step, uploadId, source);
      return;
    }
    let offset = 0;
    let overflow = false;
    const sent = await this.#command(step, 'upload_file', { path: file.path, maxsize: size + 1, blocksize: BLOCK_BYTES, keepstamp: false }, {
      write: (data) => {
        const block = data.subarray(0, Math.max(0, size - offset));
        if (block.length < data.length) overflow = true;
        if (block.length === 0) return;
        guard(() => uploads.data({ kind: 'upload', upload_id: uploadId, offset }, block));
        offset += block.length;
      },
    });
    let failed: string | undefined;
    if (overflow) failed = `it grew past ${size} bytes while it was sent`;
    else if (sent.rc !== 0 || sent.failure) failed = `cannot read it: ${describeFailure(sent)}`;
    else if (offset !== size) failed = `it shrank from ${size} to ${offset} bytes while it was sent`;
    guard(() => uploads.end({ type: 'upload_end', step_id: step.id, upload_id: uploadId, ...(failed ? { failed } : {}) }));
  }

  /** Hands a file's bytes from a received archive to the sink, as `upload_file`'s blocks would come. */
  async #sendFromArchive(step: RunningStep, uploadId: number, { spool, file }: FileSource): Promise<void> {
    const uploads = this.#uploads!;
    let offset = 0;
    let failed: string | undefined;
    try {
      for await (const block of spool.readFile(file, BLOCK_BYTES)) {
        guard(() => uploads.data({ kind: 'upload', upload_id: uploadId, offset }, block as Buffer));
        offset += (block as Buffer).length;
      }
    } catch (error) {
      if (!(error instanceof Error) || error.message.startsWith('upload refused by the master')) throw error;
      failed = `cannot read it from the archive: ${error.message}`;
    }
    if (!failed && offset !== file.size) failed = `the archive holds ${offset} of its ${file.size} bytes`;
    guard(() => uploads.end({ type: 'upload_end', step_id: step.id, upload_id: uploadId, ...(failed ? { failed } : {}) }));
  }
}

/** A path under `dir` in the worker's own path syntax. */
function join(layout: WorkerLayout, dir: string, name: string): string {
  return `${dir}${layout.windows ? '\\' : '/'}${name}`;
}

/** Size and type from a `stat` command; null when it failed (no such file). */
function statOf(end: CommandEnd): { size: number; regular: boolean } | null {
  const stat = end.values.get('stat');
  if (end.rc !== 0 || !Array.isArray(stat) || typeof stat[0] !== 'number' || typeof stat[6] !== 'number') return null;
  return { regular: (stat[0] & S_IFMT) === S_IFREG, size: stat[6] };
}

/** What went wrong with a command, in the worker's words. */
function describeFailure(end: CommandEnd): string {
  if (end.failure) return end.failure.split('\n')[0]!.slice(0, 500);
  const header = end.headers.map((h) => h.trim()).filter((h) => h !== '').join('; ');
  return header ? `${header} (rc ${end.rc})` : `rc ${end.rc}`;
}

/** The sink throws ProtocolError at what it refuses; here that is the master's own mistake, so it is not the worker's connection that pays. */
function guard(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    throw new Error(`upload refused by the master: ${error.message}`);
  }
}
