/**
 * Debug sessions on the worker connection: a shell (or one command) the
 * master relays between a person's client and the worker that ran a build.
 *
 * The master only asks (`debug_open`); the worker decides under its own
 * admin's policy and answers `debug_refused`, `debug_pending` (the admin must
 * approve it first: `debug_approve` carries HMAC-SHA256(worker secret,
 * session id)), or `debug_opened` once the process runs. Bytes travel base64
 * in control messages, at most MAX_DEBUG_CHUNK_BYTES each: a terminal's
 * traffic is small and this keeps the binary frame kinds to step output and
 * uploads. The session ends with `debug_exit` from the worker (the process
 * ended, or the worker's time limit ended it) or `debug_close` from the
 * master (the person left); a dropped connection ends every session on it.
 */
import { z } from 'zod';

/** Largest number of raw bytes in one debug_input or debug_output message. */
export const MAX_DEBUG_CHUNK_BYTES = 16 * 1024;

// base64 of MAX_DEBUG_CHUNK_BYTES bytes.
const chunk = z.string().max(4 * Math.ceil(MAX_DEBUG_CHUNK_BYTES / 3));
/** A session id the master chose: also what the admin's approval token signs. */
export const DebugSessionId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'expected 1-100 letters, digits, "_" or "-"');
const sessionId = DebugSessionId;
const size = z.number().int().min(1).max(1000);

// ---------------------------------------------------------------- master → worker

/** A person asks for a session on the build's directory; the worker checks its policy. */
export const DebugOpen = z.object({
  type: z.literal('debug_open'),
  session_id: sessionId,
  /** Who asks, as the master's API caller named themselves. */
  user: z.string().min(1).max(200),
  build_id: z.number().int().positive(),
  /** The builder's directory, relative to the agent's base directory (as in a step). */
  builder_dir: z.string().max(1000),
  /** The working directory of the build's last step, relative to the builder's directory. */
  workdir: z.string().max(1000),
  /** The build's step environment, merged over the agent's own. */
  env: z.record(z.string(), z.string()),
  /** Run this program (no shell, no PTY) instead of an interactive shell. */
  command: z.array(z.string().max(100_000)).min(1).max(1000).optional(),
  cols: size,
  rows: size,
});

/** The worker admin's approval of a pending session: hex HMAC-SHA256(worker secret, session id). */
export const DebugApprove = z.object({ type: z.literal('debug_approve'), session_id: sessionId, token: z.string().max(200) });

/** The worker's admin ends a session: hex HMAC-SHA256(worker secret, "end:" + session id); the worker checks it. */
export const DebugEnd = z.object({ type: z.literal('debug_end'), session_id: sessionId, token: z.string().max(200) });

/** Keystrokes for the session's process. */
export const DebugInput = z.object({ type: z.literal('debug_input'), session_id: sessionId, data_base64: chunk });

/** The person's terminal changed size (ignored in pipe mode). */
export const DebugResize = z.object({ type: z.literal('debug_resize'), session_id: sessionId, cols: size, rows: size });

/** The person left (or the master ends the session): the worker kills the process. */
export const DebugClose = z.object({ type: z.literal('debug_close'), session_id: sessionId, reason: z.string().max(1000) });

// ---------------------------------------------------------------- worker → master

/** The policy allows the session but the admin must approve it; `note` says how (or why a token was rejected). */
export const DebugPending = z.object({
  type: z.literal('debug_pending'),
  session_id: sessionId,
  note: z.string().max(2000),
  /** An approval token was rejected (it does not match); the session still waits. */
  rejected: z.boolean().optional(),
});

/** The process runs. */
export const DebugOpened = z.object({
  type: z.literal('debug_opened'),
  session_id: sessionId,
  /** `pty`: a pseudo-terminal (resize, job control); `pipe`: plain pipes, stdout and stderr merged. */
  mode: z.enum(['pty', 'pipe']),
  /** What the person should know (pipe mode and why). */
  note: z.string().max(2000).optional(),
  /** The worker ends the session after this long. */
  max_ms: z.number().int().positive(),
  /** Where it runs, on the worker. */
  cwd: z.string().max(4000),
});

/** The worker's policy says no; `reason` is for the person who asked. */
export const DebugRefused = z.object({ type: z.literal('debug_refused'), session_id: sessionId, reason: z.string().max(2000) });

/** Output of the session's process. */
export const DebugOutput = z.object({ type: z.literal('debug_output'), session_id: sessionId, data_base64: chunk });

/** The session is over: the process exited, or the worker ended it (`reason`). */
export const DebugExit = z.object({
  type: z.literal('debug_exit'),
  session_id: sessionId,
  exit_code: z.number().int().nullable(),
  signal: z.string().max(100).nullable(),
  reason: z.string().max(2000).nullable(),
});

/** Debug messages the master sends. */
export const DebugMasterMessage = z.discriminatedUnion('type', [DebugOpen, DebugApprove, DebugEnd, DebugInput, DebugResize, DebugClose]);
export type DebugMasterMessage = z.infer<typeof DebugMasterMessage>;
/** Debug messages the worker sends. */
export const DebugWorkerMessage = z.discriminatedUnion('type', [DebugPending, DebugOpened, DebugRefused, DebugOutput, DebugExit]);
export type DebugWorkerMessage = z.infer<typeof DebugWorkerMessage>;
export type DebugOpen = z.infer<typeof DebugOpen>;

/** The message types of each direction, to route them without listing them twice. */
export const DEBUG_MASTER_TYPES: ReadonlySet<string> = new Set(DebugMasterMessage.options.map((o) => o.shape.type.value));
export const DEBUG_WORKER_TYPES: ReadonlySet<string> = new Set(DebugWorkerMessage.options.map((o) => o.shape.type.value));

/** Whether a decoded master message is a debug one (a type guard over the full union). */
export function isDebugMasterMessage<M extends { type: string }>(message: M): message is Extract<M, DebugMasterMessage> {
  return DEBUG_MASTER_TYPES.has(message.type);
}

/** Whether a decoded worker message is a debug one. */
export function isDebugWorkerMessage<M extends { type: string }>(message: M): message is Extract<M, DebugWorkerMessage> {
  return DEBUG_WORKER_TYPES.has(message.type);
}
