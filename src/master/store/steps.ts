/**
 * Steps: created `pending` with their build (see `builds.ts`), then started
 * and finished one statement each, since these run once per step on the
 * master's hot path.
 */
import type { Millis, Result, Step } from '../domain.js';
import { ShepherdError } from '../errors.js';
import { type StepRow, toStep } from './rows.js';
import type { Db } from './tables.js';

/** A build's steps in order. */
export async function getSteps(db: Db, buildId: number): Promise<Step[]> {
  const rows = await db.selectFrom('steps').selectAll().where('build_id', '=', buildId).orderBy('idx').execute();
  return rows.map(toStep);
}

/** One step by id. */
export async function getStep(db: Db, id: number): Promise<Step | undefined> {
  const row = await db.selectFrom('steps').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toStep(row);
}

/** Marks a step running with the command as run. */
export async function markStepStarted(
  db: Db,
  stepId: number,
  start: { command: string[] | string; workdir: string; startedAt: Millis },
): Promise<Step> {
  const row = await db
    .updateTable('steps')
    .set({ state: 'running', command: JSON.stringify(start.command), workdir: start.workdir, started_at: start.startedAt })
    .where('id', '=', stepId)
    .returningAll()
    .executeTakeFirst();
  return found(row, stepId);
}

/** Marks a step finished; a step that never started (SKIPPED) goes straight from pending. */
export async function finishStep(
  db: Db,
  stepId: number,
  end: { result: Result; exitCode: number | null; signal: string | null; summary: string | null; finishedAt: Millis },
): Promise<Step> {
  const row = await db
    .updateTable('steps')
    .set({
      state: 'finished',
      result: end.result,
      exit_code: end.exitCode,
      signal: end.signal,
      summary: end.summary,
      finished_at: end.finishedAt,
    })
    .where('id', '=', stepId)
    .returningAll()
    .executeTakeFirst();
  return found(row, stepId);
}

function found(row: StepRow | undefined, stepId: number): Step {
  if (!row) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `No step ${stepId}.`, { details: { stepId } });
  return toStep(row);
}
