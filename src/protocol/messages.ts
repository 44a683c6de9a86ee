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
 */
import { z } from 'zod';

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

/** Control messages a worker may send (output travels in binary frames). */
export const WorkerMessage = z.discriminatedUnion('type', [Hello, StepFinished, Heartbeat]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;

/** Header of a binary output frame. */
export const OutputHeader = z.object({
  step_id: stepId,
  seq: seq.min(1),
  stream: z.enum(['stdout', 'stderr']),
});
export type OutputHeader = z.infer<typeof OutputHeader>;

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

export const MasterMessage = z.discriminatedUnion('type', [
  Welcome,
  Refused,
  StartStep,
  Ack,
  Release,
  Cancel,
  Heartbeat,
]);
export type MasterMessage = z.infer<typeof MasterMessage>;

export type Hello = z.infer<typeof Hello>;
export type StepFinished = z.infer<typeof StepFinished>;
export type Welcome = z.infer<typeof Welcome>;
export type StartStep = z.infer<typeof StartStep>;
