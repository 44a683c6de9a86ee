/**
 * The join form's decisions, kept apart from React: dimensions typed as
 * `key=value` lines, what the form checks before sending (each problem
 * names its field, as the API's own would), the request body a filled form
 * becomes, and which field an API validation error (`details.field`) is
 * about. The API checks everything again: these checks only spare a round
 * trip for the mistakes people make most.
 */
import type { JoinBody } from '../../../src/master/api/schemas.js';
import type { ApiError } from '../api/client.js';

/** The form's fields, named as the API names them. */
export type JoinField = 'name' | 'dimensions' | 'max_builds' | 'contact' | 'notes';
/** The fields in the order the form shows them (the first problem gets the focus). */
export const JOIN_FIELDS: readonly JoinField[] = ['name', 'dimensions', 'max_builds', 'contact', 'notes'];

/** What the form holds: text as typed. */
export interface JoinFormValues {
  name: string;
  dimensions: string;
  maxBuilds: string;
  contact: string;
  notes: string;
}

/** A problem per field, worded to be shown next to it. */
export type JoinProblems = Partial<Record<JoinField, string>>;

/** The API's worker-name rule (src/master/config/schema.ts NAME_RE), repeated so the UI bundle carries no config code. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** "Name <mail@example.org>" or a bare address, as JoinBody accepts. */
const CONTACT_RE = /^[^<>]*<[^<>@\s]+@[^<>@\s]+>$|^[^<>@\s]+@[^<>@\s]+$/;

/** `os=linux` lines (blank lines and `#` comments skipped) as dimensions, or the first bad line said plainly. */
export function parseDimensions(text: string): { dimensions: Record<string, string> } | { problem: string } {
  const dimensions: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = `line ${i + 1}`;
    const eq = line.indexOf('=');
    if (eq < 0) return { problem: `${at}: expected key=value (e.g. os=linux), got "${line}"` };
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!key) return { problem: `${at}: the key before "=" is empty` };
    if (!value) return { problem: `${at}: ${key} has no value after "="` };
    if (key.length > 100) return { problem: `${at}: the key is longer than 100 characters` };
    if (value.length > 200) return { problem: `${at}: ${key}'s value is longer than 200 characters` };
    if (Object.hasOwn(dimensions, key)) return { problem: `${at}: ${key} is given twice` };
    dimensions[key] = value;
  }
  if (Object.keys(dimensions).length > 50) return { problem: 'at most 50 dimensions' };
  return { dimensions };
}

/** The body to POST, or the problems to show (every field checked, not only the first). */
export function joinBody(values: JoinFormValues): { body: JoinBody } | { problems: JoinProblems } {
  const problems: JoinProblems = {};
  const name = values.name.trim();
  if (!name) problems.name = 'name: give the worker a name (the agent connects with it)';
  else if (name.length > 100) problems.name = 'name: at most 100 characters';
  else if (!NAME_RE.test(name)) problems.name = 'name: letters, digits, ".", "_" or "-", starting with a letter or digit';

  const parsed = parseDimensions(values.dimensions);
  if ('problem' in parsed) problems.dimensions = `dimensions, ${parsed.problem}`;
  else if (Object.keys(parsed.dimensions).length === 0) problems.dimensions = 'dimensions: at least one (os=linux, arch=x86_64...): builders select workers on them';

  const maxText = values.maxBuilds.trim();
  const maxBuilds = maxText === '' ? 1 : Number(maxText);
  if (!Number.isInteger(maxBuilds) || maxBuilds < 1 || maxBuilds > 64) problems.max_builds = 'max builds: a whole number from 1 to 64';

  const contact = values.contact.trim();
  if (!contact) problems.contact = 'contact: who runs the machine, as "Name <mail@example.org>"';
  else if (contact.length > 300 || !CONTACT_RE.test(contact)) problems.contact = 'contact: expected "Name <mail@example.org>" or a mail address';

  const notes = values.notes.trim();
  if (notes.length > 2000) problems.notes = 'notes: at most 2000 characters';

  if (Object.keys(problems).length > 0 || 'problem' in parsed) return { problems };
  return { body: { name, dimensions: parsed.dimensions, max_builds: maxBuilds, contact, ...(notes ? { notes } : {}) } };
}

/** The form field an API error names (`dimensions.os` is the dimensions box), or null: shown above the form. */
export function joinErrorField(error: Pick<ApiError, 'details'>): JoinField | null {
  const field = error.details.field;
  if (typeof field !== 'string') return null;
  const head = field.split('.')[0]!;
  return (JOIN_FIELDS as readonly string[]).includes(head) ? (head as JoinField) : null;
}
