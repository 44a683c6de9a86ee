/**
 * The audit of debug sessions (008): who asked for a shell on which worker
 * for which build, when, what the worker answered, how it ended, and where
 * its recording is. A row is written when the session is asked for, so
 * refusals are audited too.
 */
import type { Selectable } from 'kysely';
import type { Millis } from '../domain.js';
import type { DebugSessionsTable, Db } from './tables.js';

/** A session as first recorded. */
export interface NewDebugSession {
  /** The random session id. */
  session: string;
  buildId: number;
  worker: string;
  user: string;
  /** The one command asked for; null for a shell. */
  command: string[] | null;
  startedAt: Millis;
}

/** A debug session's audit entry. */
export interface DebugSessionRecord extends NewDebugSession {
  id: number;
  /** How the worker ran it ('pty' or 'pipe'); null until it opened (or when refused). */
  mode: 'pty' | 'pipe' | null;
  endedAt: Millis | null;
  exitCode: number | null;
  /** The worker's reason for refusing it. */
  refusedReason: string | null;
  /** Why it ended other than by its process exiting (time limit, the person left, the worker went away). */
  endReason: string | null;
  /** The asciicast file, relative to the master's data directory; null when nothing was recorded. */
  recording: string | null;
}

/** How a session ended. */
export interface DebugSessionEnd {
  endedAt: Millis;
  exitCode: number | null;
  refusedReason: string | null;
  endReason: string | null;
}

type Row = Selectable<DebugSessionsTable>;

function toRecord(row: Row): DebugSessionRecord {
  return {
    id: row.id,
    session: row.session,
    buildId: row.build_id,
    worker: row.worker,
    user: row.user_name,
    command: row.command === null ? null : (JSON.parse(row.command) as string[]),
    startedAt: row.started_at,
    mode: row.mode === 'pty' || row.mode === 'pipe' ? row.mode : null,
    endedAt: row.ended_at,
    exitCode: row.exit_code,
    refusedReason: row.refused_reason,
    endReason: row.end_reason,
    recording: row.recording,
  };
}

/** Records a session asked for. */
export async function createDebugSession(db: Db, input: NewDebugSession): Promise<DebugSessionRecord> {
  const row = await db
    .insertInto('debug_sessions')
    .values({
      session: input.session,
      build_id: input.buildId,
      worker: input.worker,
      user_name: input.user,
      command: input.command === null ? null : JSON.stringify(input.command),
      started_at: input.startedAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRecord(row);
}

/** The worker opened the session: how it runs, and where its recording goes. */
export async function markDebugSessionOpened(db: Db, session: string, opened: { mode: 'pty' | 'pipe'; recording: string }): Promise<void> {
  await db.updateTable('debug_sessions').set({ mode: opened.mode, recording: opened.recording }).where('session', '=', session).execute();
}

/** Records how a session ended; a session already ended keeps its first end. */
export async function finishDebugSession(db: Db, session: string, end: DebugSessionEnd): Promise<void> {
  await db
    .updateTable('debug_sessions')
    .set({ ended_at: end.endedAt, exit_code: end.exitCode, refused_reason: end.refusedReason, end_reason: end.endReason })
    .where('session', '=', session)
    .where('ended_at', 'is', null)
    .execute();
}

/** One session by its id. */
export async function getDebugSession(db: Db, session: string): Promise<DebugSessionRecord | undefined> {
  const row = await db.selectFrom('debug_sessions').selectAll().where('session', '=', session).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** A build's sessions, newest first. */
export async function listDebugSessions(db: Db, buildId: number): Promise<DebugSessionRecord[]> {
  const rows = await db.selectFrom('debug_sessions').selectAll().where('build_id', '=', buildId).orderBy('id', 'desc').execute();
  return rows.map(toRecord);
}
