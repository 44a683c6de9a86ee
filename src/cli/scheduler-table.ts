/**
 * Schedulers as people read them (`shepherd schedulers`): what triggers
 * each, which builders it queues, and the parameters `force --scheduler`
 * accepts.
 */
import type { SchedulerJson } from '../master/api/schemas.js';
import type { SchedulerParamJson } from './api-types.js';
import { formatTimestamp } from './format.js';
import { formatTable } from './table.js';

/** One force parameter: `name:type`, `=default`, `*` when required; a choice lists its values, `target:a|b=a`. */
export function formatParam(name: string, spec: SchedulerParamJson): string {
  const type = spec.type === 'choice' && spec.choices ? spec.choices.join('|') : spec.type;
  const fallback = spec.default !== undefined && spec.default !== '' ? `=${String(spec.default)}` : '';
  return `${name}${spec.required ? '*' : ''}:${type}${fallback}`;
}

/** The `shepherd schedulers` table. */
export function formatSchedulersTable(schedulers: readonly SchedulerJson[]): string {
  return formatTable(
    ['name', 'kind', 'builders', 'params', 'next run'],
    schedulers.map((s) => [
      s.name,
      s.kind,
      s.builders.join(','),
      Object.entries(s.params ?? {})
        .map(([name, spec]) => formatParam(name, spec))
        .join(' '),
      s.next_run ? formatTimestamp(s.next_run) : '',
    ]),
  );
}
