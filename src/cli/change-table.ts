/**
 * Changes as people read them: the `shepherd changes` list and the
 * blamelist under one build.
 */
import type { ChangeJson, ChangeWithBuildsJson } from '../master/api/schemas.js';
import type { ChangeBuildJson } from './api-types.js';
import { messageSubject, personName, shortRevision } from './format.js';
import { formatTable } from './table.js';

/** `unix-tests#12 SUCCESS`; a running build shows its state. */
export function formatChangeBuild(build: ChangeBuildJson): string {
  return `${build.builder}#${build.number} ${build.result ?? build.state}`;
}

/** The `shepherd changes` table, in the order given (the API's: newest first). */
export function formatChangesTable(changes: readonly ChangeWithBuildsJson[]): string {
  return formatTable(
    ['id', 'revision', 'branch', 'author', 'message', 'builds'],
    changes.map((c) => [
      String(c.id),
      shortRevision(c.revision),
      c.branch,
      personName(c.author),
      messageSubject(c.message, 50),
      c.builds.map(formatChangeBuild).join(', '),
    ]),
  );
}

/** The changes a build is the first to include, as an indented block under a title; '' when there are none. */
export function formatBlamelist(changes: readonly ChangeJson[]): string {
  if (changes.length === 0) return '';
  const table = formatTable(
    ['change', 'revision', 'author', 'message'],
    changes.map((c) => [String(c.id), shortRevision(c.revision), personName(c.author), messageSubject(c.message)]),
  );
  const title = changes.length === 1 ? 'blamelist (1 change):' : `blamelist (${changes.length} changes):`;
  return `${title}\n${table.replace(/^(?=.)/gm, '  ')}`;
}
