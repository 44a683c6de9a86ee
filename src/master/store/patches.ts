/**
 * Try patches: the diff `shepherd try` uploaded, stored byte for byte (a
 * patch need not be UTF-8) and read back by the checkout step. The metadata
 * and the bytes are one row; the bytes are read only by `getPatch`.
 */
import type { Patch } from '../domain.js';
import type { NewPatch } from './store.js';
import { toPatch } from './rows.js';
import type { Db } from './tables.js';

/** Stores a patch; its size is the length of its bytes. */
export async function addPatch(db: Db, patch: NewPatch): Promise<Patch> {
  const row = await db
    .insertInto('patches')
    .values({
      source: patch.source,
      base_revision: patch.baseRevision,
      branch: patch.branch,
      author: patch.author,
      comment: patch.comment,
      size_bytes: patch.data.length,
      data: patch.data,
      created_at: patch.createdAt,
    })
    .returning(['id', 'source', 'base_revision', 'branch', 'author', 'comment', 'size_bytes', 'created_at'])
    .executeTakeFirstOrThrow();
  return toPatch(row);
}

/** A patch with its bytes, or undefined. */
export async function getPatch(db: Db, id: number): Promise<(Patch & { data: Buffer }) | undefined> {
  const row = await db.selectFrom('patches').selectAll().where('id', '=', id).executeTakeFirst();
  // better-sqlite3 and pg both return a Buffer; an empty blob is normalised just in case.
  return row && { ...toPatch(row), data: Buffer.isBuffer(row.data) ? row.data : Buffer.from(row.data ?? []) };
}
