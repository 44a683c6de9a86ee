/**
 * The typed parameters of a force scheduler: a person's input checked
 * against the config before anything is queued, defaults filled in, and
 * every value turned into a string build property of the same name.
 */
import type { ForceParamConfig } from '../config/schema.js';
import type { Properties } from '../domain.js';
import { ShepherdError } from '../errors.js';

/**
 * Validates force parameters; returns them as build properties (every
 * configured parameter present). Throws SHEPHERD_E_VALIDATION with
 * `details.field = 'params.NAME'` at the first problem, naming what was expected.
 */
export function validateForceParams(params: Readonly<Record<string, ForceParamConfig>>, input: Readonly<Record<string, unknown>>): Properties {
  for (const name of Object.keys(input)) {
    if (!Object.hasOwn(params, name)) {
      const known = Object.keys(params);
      throw invalid(name, `Unknown parameter "${name}": ${known.length ? `expected one of ${known.join(', ')}` : 'this scheduler takes no parameters'}.`);
    }
  }
  const properties: Properties = {};
  for (const [name, spec] of Object.entries(params)) {
    const value = Object.hasOwn(input, name) ? input[name] : undefined;
    properties[name] = checkParam(name, spec, value ?? undefined);
  }
  return properties;
}

function checkParam(name: string, spec: ForceParamConfig, value: unknown): string {
  switch (spec.type) {
    case 'boolean': {
      if (value === undefined) return String(spec.default);
      if (value === true || value === 'true') return 'true';
      if (value === false || value === 'false') return 'false';
      throw invalid(name, `Parameter "${name}" expects true or false, got ${show(value)}.`);
    }
    case 'choice': {
      if (value === undefined) return spec.default ?? spec.choices[0]!;
      if (typeof value !== 'string' || !spec.choices.includes(value)) {
        throw invalid(name, `Parameter "${name}" expects one of ${spec.choices.join(', ')}, got ${show(value)}.`);
      }
      return value;
    }
    case 'string': {
      if (value !== undefined && typeof value !== 'string') {
        throw invalid(name, `Parameter "${name}" expects a string, got ${show(value)}.`);
      }
      const text = value ?? spec.default ?? '';
      if (spec.required && text === '') throw invalid(name, `Parameter "${name}" is required: give it a non-empty value.`);
      // An empty optional value is "not given"; the pattern constrains given values.
      if (spec.pattern !== undefined && text !== '' && !new RegExp(`^(?:${spec.pattern})$`).test(text)) {
        throw invalid(name, `Parameter "${name}" must match the pattern ${spec.pattern}, got ${show(text)}.`);
      }
      return text;
    }
  }
}

function invalid(name: string, message: string): ShepherdError {
  return new ShepherdError('SHEPHERD_E_VALIDATION', message, { details: { field: `params.${name}` } });
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
