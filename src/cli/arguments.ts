/**
 * Parsers for command-line values, in commander's argParser form: they throw
 * InvalidArgumentError, which commander reports as a usage error (exit 2).
 */
import { InvalidArgumentError } from 'commander';

/** Collects repeated `--prop KEY=VALUE` into one object; the value may contain `=`, a later key wins. */
export function collectProperty(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = text.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got "${text}"`);
  const key = text.slice(0, at).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) {
    throw new InvalidArgumentError(`"${key}" is not a property name (letters, digits, "_", "." or "-")`);
  }
  return { ...previous, [key]: text.slice(at + 1) };
}

/** Collects repeated `--param NAME=VALUE` of a force scheduler; names as the config allows them. */
export function collectParam(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = text.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected NAME=VALUE, got "${text}"`);
  const name = text.slice(0, at).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new InvalidArgumentError(`"${name}" is not a parameter name (letters, digits and "_")`);
  }
  return { ...previous, [name]: text.slice(at + 1) };
}

/** Collects a repeatable option (`--builder a --builder b`) in order, once each. */
export function collectName(text: string, previous: string[] = []): string[] {
  if (text.trim() === '') throw new InvalidArgumentError('expected a name, got ""');
  return previous.includes(text) ? previous : [...previous, text];
}

/** A positive integer id (build, request). */
export function parseId(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError(`expected a positive integer id, got "${text}"`);
  }
  return Number(text);
}

/** Any integer (priorities may be negative). */
export function parseInteger(text: string): number {
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError(`expected an integer, got "${text}"`);
  }
  return Number(text);
}

/** A page size for lists: 1..500, as the API allows. */
export function parseLimit(text: string): number {
  const limit = parseInteger(text);
  if (limit < 1 || limit > 500) throw new InvalidArgumentError(`expected 1 to 500, got ${limit}`);
  return limit;
}
