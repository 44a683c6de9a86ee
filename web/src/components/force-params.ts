/**
 * The force form's decisions, kept apart from React: which force schedulers
 * cover a builder, the form's starting values (the parameters' defaults),
 * the request body a filled form becomes, and which form field an API
 * validation error names.
 */
import type { ApiError, SchedulerJson } from '../api/client.js';

/** A force scheduler's typed parameters. */
export type ForceParams = NonNullable<SchedulerJson['params']>;
/** One typed parameter. */
export type ForceParam = ForceParams[string];
/** What the form holds for each parameter. */
export type ParamValues = Record<string, string | boolean>;

/** The force schedulers that may force `builder`, by name. */
export function forceSchedulersFor(schedulers: readonly SchedulerJson[], builder: string): SchedulerJson[] {
  return schedulers
    .filter((s) => s.kind === 'force' && s.builders.includes(builder))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The starting value of one parameter, as the master would fill it in. */
export function paramDefault(param: ForceParam): string | boolean {
  switch (param.type) {
    case 'boolean':
      return param.default === true || param.default === 'true';
    case 'choice':
      return typeof param.default === 'string' ? param.default : (param.choices?.[0] ?? '');
    case 'string':
      return typeof param.default === 'string' ? param.default : '';
  }
}

/** The form's starting values: every parameter at its default. */
export function paramDefaults(params: ForceParams | undefined): ParamValues {
  const values: ParamValues = {};
  for (const [name, param] of Object.entries(params ?? {})) values[name] = paramDefault(param);
  return values;
}

/** `POST /schedulers/:name/force` body: this one builder, every parameter, the reason if given. */
export function schedulerForceBody(
  builder: string,
  params: ForceParams | undefined,
  values: ParamValues,
  reason: string,
): { builders: string[]; params: ParamValues; reason?: string } {
  const sent: ParamValues = {};
  // Only the scheduler's own parameters: values left over from another scheduler would be refused.
  for (const [name, param] of Object.entries(params ?? {})) sent[name] = values[name] ?? paramDefault(param);
  const trimmed = reason.trim();
  return { builders: [builder], params: sent, ...(trimmed ? { reason: trimmed } : {}) };
}

/** `POST /builders/:name/force` body: the reason if given. */
export function plainForceBody(reason: string): { reason?: string } {
  const trimmed = reason.trim();
  return trimmed ? { reason: trimmed } : {};
}

/** Which form field an error is about: a parameter name, `reason`, or null (show it above the form). */
export function errorField(error: Pick<ApiError, 'details'>): { param: string } | { field: 'reason' } | null {
  const field = error.details.field;
  if (typeof field !== 'string') return null;
  if (field.startsWith('params.')) return { param: field.slice('params.'.length) };
  if (field === 'reason') return { field: 'reason' };
  return null;
}
