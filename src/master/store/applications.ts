/**
 * Joining the farm: a volunteer's application for a worker, the operator's
 * decision on it, and the worker approval registers in the database (beside
 * the config file's workers), whose secret the volunteer collects once.
 *
 * Names are kept unique by the schema, not by reading first: a pending
 * application's name by a partial unique index, a registered worker's by its
 * primary key, so two masters (or two requests) racing for a name cannot both
 * win. Every write transaction starts with its write, as in `builds.ts`.
 */
import type { Millis } from '../domain.js';
import { ShepherdError } from '../errors.js';
import { toApplication, toRegisteredWorker } from './rows.js';
import type { Application, ApplicationState, NewApplication, NewRegisteredWorker, RegisteredWorker } from './store.js';
import type { Db } from './tables.js';

/**
 * Stores a pending application; SHEPHERD_E_CONFLICT naming `name` when a
 * pending application or a registered worker (retired ones included, so a
 * name never comes back to mean another machine) already has the name.
 */
export async function createApplication(db: Db, application: NewApplication): Promise<Application> {
  return db.transaction().execute(async (trx) => {
    // No conflict target: the only unique key an insert can hit is the partial one on pending
    // names, and naming it would have to repeat the index's predicate on both databases.
    const row = await trx
      .insertInto('applications')
      .values({
        name: application.name,
        dimensions: JSON.stringify(application.dimensions),
        max_builds: application.maxBuilds,
        contact: application.contact,
        notes: application.notes,
        token_hash: application.tokenHash,
        submitted_at: application.submittedAt,
        state: 'pending',
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) {
      throw nameConflict(`an application for a worker named "${application.name}" is already pending: propose another name or wait for its decision`);
    }
    // Checked after the insert (which rolls back with the throw). A worker registered by an
    // approval committing at the same moment can slip past on PostgreSQL; approving this
    // application under that name then fails, so the operator picks another name.
    if (await registeredWorkerExists(trx, application.name)) {
      throw nameConflict(`a worker named "${application.name}" already exists: propose another name`);
    }
    return toApplication(row);
  });
}

/** One application by id. */
export async function getApplication(db: Db, id: number): Promise<Application | undefined> {
  const row = await db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toApplication(row);
}

/** Applications newest first, optionally in one state. */
export async function listApplications(db: Db, filter: { state?: ApplicationState }): Promise<Application[]> {
  let query = db.selectFrom('applications').selectAll();
  if (filter.state !== undefined) query = query.where('state', '=', filter.state);
  const rows = await query.orderBy('id', 'desc').execute();
  return rows.map(toApplication);
}

/**
 * Approves a pending application and registers its worker (under
 * `decision.worker.name`) in one transaction; undefined when it was not
 * pending, SHEPHERD_E_CONFLICT naming `name` when a worker is already
 * registered under that name (nothing changes then).
 */
export async function approveApplication(
  db: Db,
  id: number,
  decision: { by: string; at: Millis; worker: NewRegisteredWorker },
): Promise<{ application: Application; worker: RegisteredWorker } | undefined> {
  const { worker } = decision;
  return db.transaction().execute(async (trx) => {
    // Rows affected is the decision: zero means it was decided already (or never existed).
    const applicationRow = await trx
      .updateTable('applications')
      .set({ state: 'approved', decided_by: decision.by, decided_at: decision.at, worker: worker.name })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .returningAll()
      .executeTakeFirst();
    if (!applicationRow) return undefined;
    const workerRow = await trx
      .insertInto('registered_workers')
      .values({
        name: worker.name,
        application_id: id,
        dimensions: JSON.stringify(worker.dimensions),
        max_builds: worker.maxBuilds,
        admins: JSON.stringify(worker.admins),
        notes: worker.notes,
        created_by: decision.by,
        created_at: decision.at,
      })
      // The name (primary key) is the only key a new row can hit: application_id is unique too,
      // but this application was pending, so no worker has it yet.
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!workerRow) throw nameConflict(`a worker named "${worker.name}" already exists: approve it under another name`);
    return { application: toApplication(applicationRow), worker: toRegisteredWorker(workerRow) };
  });
}

/** Declines a pending application, saying why; undefined when it was not pending. */
export async function declineApplication(
  db: Db,
  id: number,
  decision: { by: string; at: Millis; reason: string },
): Promise<Application | undefined> {
  const row = await db
    .updateTable('applications')
    .set({ state: 'declined', decided_by: decision.by, decided_at: decision.at, reason: decision.reason })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
  return row && toApplication(row);
}

/**
 * Sets the secret of the worker an application registered, only if it has
 * none: one conditional update, so of two collections racing exactly one
 * gets true (and shows the volunteer the secret). False also when the
 * application registered no worker.
 */
export async function collectWorkerSecret(db: Db, applicationId: number, secretHash: string, at: Millis): Promise<boolean> {
  const result = await db
    .updateTable('registered_workers')
    .set({ secret_hash: secretHash, secret_collected_at: at })
    .where('application_id', '=', applicationId)
    .where('secret_hash', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Every registered worker, retired ones included, by name. */
export async function listRegisteredWorkers(db: Db): Promise<RegisteredWorker[]> {
  const rows = await db.selectFrom('registered_workers').selectAll().orderBy('name').execute();
  return rows.map(toRegisteredWorker);
}

/** Retires a registered worker, keeping its row (its name stays taken); undefined when unknown or already retired. */
export async function retireWorker(db: Db, name: string, by: string, at: Millis): Promise<RegisteredWorker | undefined> {
  const row = await db
    .updateTable('registered_workers')
    .set({ retired_by: by, retired_at: at })
    .where('name', '=', name)
    .where('retired_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  return row && toRegisteredWorker(row);
}

async function registeredWorkerExists(db: Db, name: string): Promise<boolean> {
  const row = await db.selectFrom('registered_workers').select('name').where('name', '=', name).executeTakeFirst();
  return row !== undefined;
}

/** A name already taken; `details.field` names the input to change, as validation errors do. */
function nameConflict(message: string): ShepherdError {
  return new ShepherdError('SHEPHERD_E_CONFLICT', message, { details: { field: 'name' } });
}
