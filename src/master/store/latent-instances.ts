/**
 * On-demand (latent) instances (009): one row per instance a master asked a
 * provider to start, kept after it stopped, because a month's spend is
 * computed from the real start and stop times of every instance, and a
 * pool's run of failed starts (its backoff) must survive a restart.
 *
 * A worker name (`POOL-N`) is reused by later instances, so rows are keyed by
 * id; at most one row per name is alive (`stopped_at` null) at a time, which
 * a partial unique index enforces: two masters, or two racing starts, can
 * never start two instances that would attach as the same worker.
 */
import type { Selectable, Updateable } from 'kysely';
import type { Millis } from '../domain.js';
import { ShepherdError } from '../errors.js';
import type { InstanceState } from '../latent/decide.js';
import type { Db, LatentInstancesTable } from './tables.js';
import { isUniqueViolation } from './builds.js';

/** An instance about to be started (before its provider is called). */
export interface NewLatentInstance {
  /** The worker name its agent connects as: `POOL-N`. */
  name: string;
  pool: string;
  /** The provider kind (`local`, `command`, `ec2`, `kubernetes`). */
  provider: string;
  /** The id of the master that started it (its tag `shepherd-master=ID`). */
  masterId: string;
  startedAt: Millis;
  /** SHA-256 of the one-time token the agent connects with, and when it expires. */
  tokenHash: string;
  tokenExpiresAt: Millis;
  /** The pool's cost_per_hour at its start: what it costs, whatever the config says later. */
  costPerHour: number;
}

/** An instance's record. */
export interface LatentInstanceRecord extends Omit<NewLatentInstance, 'tokenHash' | 'tokenExpiresAt'> {
  id: number;
  /** The provider's handle (pid directory, EC2 instance id, pod name); null until start() returned. */
  providerId: string | null;
  state: InstanceState;
  connectedAt: Millis | null;
  /** When it last became idle (connected with no build, or its last build ended); null while building. */
  idleSince: Millis | null;
  stoppedAt: Millis | null;
  /** Builds it finished. */
  builds: number;
  /** Why it was stopped, or why its start failed (the sentence people see). */
  reason: string | null;
  /** Null once used (the first connection) or once the instance stopped. */
  tokenHash: string | null;
  tokenExpiresAt: Millis | null;
  /** SHA-256 of the session secret the master gave the agent at its first connection (its reconnects use it). */
  sessionHash: string | null;
}

/** Fields an update may change; omitted ones are kept. */
export type LatentInstancePatch = Partial<
  Pick<
    LatentInstanceRecord,
    'providerId' | 'state' | 'connectedAt' | 'idleSince' | 'stoppedAt' | 'builds' | 'reason' | 'tokenHash' | 'tokenExpiresAt' | 'sessionHash'
  >
>;

/** Which instances to list. */
export interface LatentInstanceFilter {
  /** Only this master's. */
  masterId?: string;
  /** Only alive ones (`stopped_at` null). */
  alive?: boolean;
  /** Only those running at some time at or after this (alive, or stopped at or after it): a month's spend. */
  since?: Millis;
  /** Only this pool's. */
  pool?: string;
}

type Row = Selectable<LatentInstancesTable>;

function toRecord(row: Row): LatentInstanceRecord {
  return {
    id: row.id,
    name: row.name,
    pool: row.pool,
    provider: row.provider,
    masterId: row.master_id,
    startedAt: row.started_at,
    providerId: row.provider_id,
    state: row.state,
    connectedAt: row.connected_at,
    idleSince: row.idle_since,
    stoppedAt: row.stopped_at,
    builds: row.builds,
    reason: row.reason,
    tokenHash: row.token_hash,
    tokenExpiresAt: row.token_expires_at,
    sessionHash: row.session_hash,
    costPerHour: Number(row.cost_per_hour),
  };
}

/** The columns a patch sets: only the fields it has, so omitted ones are kept. */
function patchColumns(patch: LatentInstancePatch): Updateable<LatentInstancesTable> {
  const columns: Updateable<LatentInstancesTable> = {};
  if (patch.providerId !== undefined) columns.provider_id = patch.providerId;
  if (patch.state !== undefined) columns.state = patch.state;
  if (patch.connectedAt !== undefined) columns.connected_at = patch.connectedAt;
  if (patch.idleSince !== undefined) columns.idle_since = patch.idleSince;
  if (patch.stoppedAt !== undefined) columns.stopped_at = patch.stoppedAt;
  if (patch.builds !== undefined) columns.builds = patch.builds;
  if (patch.reason !== undefined) columns.reason = patch.reason;
  if (patch.tokenHash !== undefined) columns.token_hash = patch.tokenHash;
  if (patch.tokenExpiresAt !== undefined) columns.token_expires_at = patch.tokenExpiresAt;
  if (patch.sessionHash !== undefined) columns.session_hash = patch.sessionHash;
  return columns;
}

/**
 * Records an instance about to be started (`starting`, no provider id);
 * SHEPHERD_E_CONFLICT naming `name` while another instance of that name is
 * alive. The partial unique index decides, not a read first, so of two
 * racing starts exactly one gets a row.
 */
export async function createLatentInstance(db: Db, instance: NewLatentInstance): Promise<LatentInstanceRecord> {
  const row = await db
    .insertInto('latent_instances')
    .values({
      name: instance.name,
      pool: instance.pool,
      provider: instance.provider,
      master_id: instance.masterId,
      state: 'starting',
      started_at: instance.startedAt,
      token_hash: instance.tokenHash,
      token_expires_at: instance.tokenExpiresAt,
      cost_per_hour: instance.costPerHour,
    })
    // No conflict target: the only unique key an insert can hit is the partial one on alive
    // names (the id is generated), and naming it would repeat the index's predicate.
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) throw nameConflict(instance.name);
  return toRecord(row);
}

/**
 * Changes an instance's fields; undefined when there is no instance with that
 * id. SHEPHERD_E_CONFLICT naming `name` when clearing `stoppedAt` would make
 * it a second alive instance of its name.
 */
export async function updateLatentInstance(db: Db, id: number, patch: LatentInstancePatch): Promise<LatentInstanceRecord | undefined> {
  const columns = patchColumns(patch);
  // An UPDATE with no SET is not SQL.
  if (Object.keys(columns).length === 0) return getLatentInstance(db, id);
  try {
    const row = await db.updateTable('latent_instances').set(columns).where('id', '=', id).returningAll().executeTakeFirst();
    return row && toRecord(row);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const existing = await getLatentInstance(db, id);
    throw nameConflict(existing?.name ?? String(id), error);
  }
}

/** One instance by id. */
export async function getLatentInstance(db: Db, id: number): Promise<LatentInstanceRecord | undefined> {
  const row = await db.selectFrom('latent_instances').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRecord(row);
}

/** Instances matching every filter given, oldest start first (ties by id). */
export async function listLatentInstances(db: Db, filter: LatentInstanceFilter): Promise<LatentInstanceRecord[]> {
  let query = db.selectFrom('latent_instances').selectAll();
  if (filter.masterId !== undefined) query = query.where('master_id', '=', filter.masterId);
  if (filter.pool !== undefined) query = query.where('pool', '=', filter.pool);
  if (filter.alive === true) query = query.where('stopped_at', 'is', null);
  const since = filter.since;
  if (since !== undefined) query = query.where((eb) => eb.or([eb('stopped_at', 'is', null), eb('stopped_at', '>=', since)]));
  const rows = await query.orderBy('started_at').orderBy('id').execute();
  return rows.map(toRecord);
}

/** Another instance of the name is alive; `details.field` names the input, as validation errors do. */
function nameConflict(name: string, cause?: unknown): ShepherdError {
  return new ShepherdError(
    'SHEPHERD_E_CONFLICT',
    `an on-demand instance named "${name}" is already alive: stop it first, or start this one under another name`,
    { details: { field: 'name' }, cause },
  );
}
