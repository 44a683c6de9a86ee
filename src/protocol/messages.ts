/**
 * The Shepherd worker protocol: every message the worker agent and the master
 * exchange over the WebSocket the worker opens to the master.
 *
 * Control messages are JSON text frames, one object each, discriminated by
 * `type`. Step output travels in binary frames (see `frame.ts`) so that logs
 * stay byte-exact and nothing is base64-inflated. Every frame is validated
 * with these schemas on arrival; a frame that does not parse closes that one
 * connection.
 *
 * Reliability: output chunks carry a per-step sequence number starting at 1.
 * The master acknowledges a sequence number only once the bytes up to it are
 * durably stored; the worker keeps every unacknowledged chunk (in memory, then
 * on disk) and resends it after a reconnect, so output is neither lost nor
 * duplicated across worker disconnects or a master crash.
 *
 * Files (artifacts, test results): a step may ask the agent to collect files
 * by glob once its process has ended (`StepCommand.collect`). Each file goes
 * as `upload_begin`, binary upload frames (header `UploadHeader`, told apart
 * from output frames by its `kind: 'upload'`), then `upload_end`; a file the
 * limits leave out is announced with `upload_skipped`. All of a step's
 * uploads go before its `step_finished`. Uploads are not resent: one in
 * flight when the connection drops is abandoned (the master deletes what it
 * received), the step's remaining ones go on the next connection, and its
 * outcome is delivered as usual. A cancelled step collects nothing.
 */
import { z } from 'zod';
import { DebugApprove, DebugClose, DebugEnd, DebugExit, DebugInput, DebugOpen, DebugOpened, DebugOutput, DebugPending, DebugRefused, DebugResize } from './debug-messages.js';

/** Bumped on any incompatible change to the messages below. */
export const PROTOCOL_VERSION = 1;

/** Largest text frame either side accepts; larger ones close the connection. */
export const MAX_CONTROL_FRAME_BYTES = 1024 * 1024;
/**
 * Largest text frame the agent accepts from the master. Bigger than the
 * master's limit because a start_step may carry a try patch (up to the try
 * scheduler's max_patch, base64-encoded); the agent trusts its master.
 */
export const MAX_MASTER_FRAME_BYTES = 64 * 1024 * 1024;
/** Largest output payload in one binary frame. */
export const MAX_OUTPUT_CHUNK_BYTES = 64 * 1024;
/** Largest frame of any kind (an output chunk plus its header). */
export const MAX_FRAME_BYTES = MAX_OUTPUT_CHUNK_BYTES + 4096;

const name = z.string().min(1).max(200);
const stepId = z.number().int().positive();
const seq = z.number().int().nonnegative();
const uploadId = z.number().int().positive();
const bytes = z.number().int().nonnegative();

/** What a collected file is for: a build artifact, or a test results file (JUnit XML) the master parses. */
export const FileKind = z.enum(['artifact', 'test_results']);
export type FileKind = z.infer<typeof FileKind>;

/** Longest file name (a path relative to the step's working directory) an upload may carry. */
export const MAX_UPLOAD_NAME_CHARS = 1000;
/**
 * A collected file's name: its path relative to the step's working
 * directory, `/`-separated. The master refuses `..`, absolute names, empty
 * segments and NUL bytes.
 */
const uploadName = z.string().min(1).max(MAX_UPLOAD_NAME_CHARS);

/** What the agent tells the master about the machine it runs on. */
export const WorkerInfo = z.object({
  os: z.string(),
  arch: z.string(),
  cpus: z.number().int().nonnegative(),
  hostname: z.string(),
  agent_version: z.string(),
  /** Detected dimensions merged with those in the worker's own config. */
  dimensions: z.record(z.string(), z.string()),
  /** The admin contact from the worker's own config ("Name <mail>"), if any. */
  admin: z.string().optional(),
  /**
   * Maintenance windows from the worker's own config: each opens at `cron`
   * (five fields, UTC) and lasts `duration_ms`; no missing-worker alert
   * while one is open. The master ignores (and logs) a cron it cannot read.
   */
  maintenance: z
    .array(z.object({ cron: z.string().min(1).max(200), duration_ms: z.number().int().positive() }))
    .max(50)
    .optional(),
});
export type WorkerInfo = z.infer<typeof WorkerInfo>;

/** A step the agent still holds state for when it (re)connects. */
export const HeldStep = z.object({
  step_id: stepId,
  /** Highest sequence number the agent has produced for this step. */
  last_seq: seq,
  /** Present when the step's process has already ended. */
  finished: z.lazy(() => StepOutcome).optional(),
});
export type HeldStep = z.infer<typeof HeldStep>;

/** How a step's process ended, as measured on the worker. */
export const StepOutcome = z.object({
  /** Exit status, or null when the process was ended by a signal or never started. */
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  duration_ms: z.number().int().nonnegative(),
  /** Why the agent ended the process, when it did. */
  ended_by: z.enum(['timeout', 'max_time', 'cancel']).nullable(),
  /** The process could not be started (bad workdir, missing program). */
  spawn_error: z.string().nullable(),
});
export type StepOutcome = z.infer<typeof StepOutcome>;

// ---------------------------------------------------------------- worker → master

export const Hello = z.object({
  type: z.literal('hello'),
  protocol: z.number().int(),
  name,
  secret: z.string().max(1000),
  info: WorkerInfo,
  /** Steps started by an earlier connection that the agent still holds. */
  held: z.array(HeldStep).max(1000),
});

export const StepFinished = z.object({
  type: z.literal('step_finished'),
  step_id: stepId,
  /** Sequence number of the last output chunk sent for this step. */
  last_seq: seq,
  outcome: StepOutcome,
  /**
   * Build properties the step set: `NAME=value` lines it wrote to
   * `$SHEPHERD_STEP_DIR/properties` (a checkout's `got_revision`).
   */
  properties: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/), z.string().max(10_000)).optional(),
});

export const Heartbeat = z.object({ type: z.literal('heartbeat'), t: z.number() });

/** A collected file starts: its bytes follow in upload frames, offsets from 0 up to `size`. */
export const UploadBegin = z.object({
  type: z.literal('upload_begin'),
  step_id: stepId,
  /** Chosen by the agent; unique on the connection. */
  upload_id: uploadId,
  kind: FileKind,
  name: uploadName,
  size: bytes,
});

/**
 * A collected file is complete (every byte up to `size` sent), or, with
 * `failed`, could not be read to its end: the master discards what it got and
 * records the file as skipped for that reason.
 */
export const UploadEnd = z.object({
  type: z.literal('upload_end'),
  step_id: stepId,
  upload_id: uploadId,
  failed: z.string().max(1000).optional(),
});

/** A file the globs matched but the limits leave out (too big, or past the step's total). */
export const UploadSkipped = z.object({
  type: z.literal('upload_skipped'),
  step_id: stepId,
  kind: FileKind,
  name: uploadName,
  size: bytes,
  reason: z.string().min(1).max(1000),
});

/**
 * The agent's answer to `keep_workdir`: where it keeps the build's tree, or
 * why it does not (its admin's `keep` policy, no directory, a full disk).
 */
export const WorkdirKept = z.object({
  type: z.literal('workdir_kept'),
  build_id: z.number().int().positive(),
  /** The kept tree's absolute path on the worker; null when it was not kept. */
  path: z.string().max(4000).nullable(),
  /** Why it was not kept (null when it was). */
  reason: z.string().max(2000).nullable(),
});

/** Control messages a worker may send (output and upload bytes travel in binary frames). */
export const WorkerMessage = z.discriminatedUnion('type', [
  Hello, StepFinished, Heartbeat, UploadBegin, UploadEnd, UploadSkipped, WorkdirKept,
  // Debug sessions (debug-messages.ts).
  DebugPending, DebugOpened, DebugRefused, DebugOutput, DebugExit,
]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;

/** Header of a binary output frame. */
export const OutputHeader = z.object({
  step_id: stepId,
  seq: seq.min(1),
  stream: z.enum(['stdout', 'stderr']),
});
export type OutputHeader = z.infer<typeof OutputHeader>;

/** Header of a binary upload frame: `kind` tells it from an output frame (whose header has none). */
export const UploadHeader = z.object({
  kind: z.literal('upload'),
  upload_id: uploadId,
  /** Where the frame's bytes go in the file; frames of one upload arrive in order, without gaps. */
  offset: bytes,
});
export type UploadHeader = z.infer<typeof UploadHeader>;

// ---------------------------------------------------------------- master → worker

export const Welcome = z.object({
  type: z.literal('welcome'),
  protocol: z.number().int(),
  /** How often the master expects a heartbeat; the agent sends one at this interval. */
  heartbeat_ms: z.number().int().positive(),
  /**
   * For each held step the master still wants: the last sequence number it
   * has stored. The agent resends everything after it. Held steps not listed
   * are unknown or over; the agent kills them and drops their state.
   */
  resume: z.array(z.object({ step_id: stepId, acked_seq: seq })),
  /**
   * Given when the agent connected with a one-time token (an on-demand
   * instance): the secret its later connections use, because the token is
   * spent. The agent keeps it in memory only.
   */
  session_secret: z.string().min(32).max(1000).optional(),
});

export const Refused = z.object({
  type: z.literal('refused'),
  code: z.string(),
  message: z.string(),
});

/** The command of one step, fully interpolated by the master. */
export const StepCommand = z.object({
  /** A string runs through `/bin/sh -c`; an array is executed directly. */
  run: z.union([z.string(), z.array(z.string()).min(1)]),
  env: z.record(z.string(), z.string()),
  /** Relative to the builder's directory on the worker. */
  workdir: z.string(),
  /** The builder's directory, relative to the agent's base directory. */
  builder_dir: z.string(),
  /** Kill after this long without output (0: never). */
  timeout_ms: z.number().int().nonnegative(),
  /** Kill after this long in all (0: never). */
  max_time_ms: z.number().int().nonnegative(),
  /**
   * Files the agent writes into the step's own directory before starting it
   * (a try patch). The process finds the directory in `$SHEPHERD_STEP_DIR`.
   */
  files: z
    .array(z.object({ name: z.string().regex(/^[A-Za-z0-9._-]+$/), data_base64: z.string() }))
    .max(16)
    .optional(),
  /**
   * Files to send back once the process has ended (not when it was
   * cancelled): globs relative to the working directory (`*` within a path
   * segment, `**` across segments, `?` one character), one entry per kind.
   * A file over `max_file_bytes`, or past `max_total_bytes` of the entry's
   * files so far (in name order), is announced as skipped instead.
   */
  collect: z
    .array(
      z.object({
        kind: FileKind,
        globs: z.array(z.string().min(1).max(500)).min(1).max(100),
        max_file_bytes: bytes,
        max_total_bytes: bytes,
      }),
    )
    .max(8)
    .optional(),
});
export type StepCommand = z.infer<typeof StepCommand>;

export const StartStep = z.object({
  type: z.literal('start_step'),
  step_id: stepId,
  build_id: z.number().int().positive(),
  command: StepCommand,
});

export const Ack = z.object({ type: z.literal('ack'), step_id: stepId, seq });

/** The master has recorded the step as finished: the agent may forget it. */
export const Release = z.object({ type: z.literal('release'), step_id: stepId });

export const Cancel = z.object({ type: z.literal('cancel'), step_id: stepId, reason: z.string() });

/**
 * The build ended red and its builder keeps failed trees
 * (`keep_workdir_on_failure`): the agent moves the builder's directory aside
 * for debug sessions, within its admin's `keep` policy, and answers
 * `workdir_kept`. It arrives before any later step of that builder.
 */
export const KeepWorkdir = z.object({
  type: z.literal('keep_workdir'),
  build_id: z.number().int().positive(),
  /** The builder's directory, relative to the agent's base directory (as in a step). */
  builder_dir: z.string().max(1000),
});

export const MasterMessage = z.discriminatedUnion('type', [
  Welcome,
  Refused,
  StartStep,
  Ack,
  Release,
  Cancel,
  Heartbeat,
  KeepWorkdir,
  // Debug sessions (debug-messages.ts).
  DebugOpen,
  DebugApprove,
  DebugEnd,
  DebugInput,
  DebugResize,
  DebugClose,
]);
export type MasterMessage = z.infer<typeof MasterMessage>;

export type Hello = z.infer<typeof Hello>;
export type StepFinished = z.infer<typeof StepFinished>;
export type Welcome = z.infer<typeof Welcome>;
export type StartStep = z.infer<typeof StartStep>;
export type UploadBegin = z.infer<typeof UploadBegin>;
export type UploadEnd = z.infer<typeof UploadEnd>;
export type UploadSkipped = z.infer<typeof UploadSkipped>;
export type KeepWorkdir = z.infer<typeof KeepWorkdir>;
export type WorkdirKept = z.infer<typeof WorkdirKept>;
/** One entry of `StepCommand.collect`. */
export type CollectEntry = NonNullable<StepCommand['collect']>[number];
