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

/**
 * Collects repeated `--dimension KEY=VALUE` (what a worker is: os, arch,
 * libc...); a later key wins. Keys as builders' selectors write them.
 */
export function collectDimension(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = text.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected KEY=VALUE (e.g. libc=glibc), got "${text}"`);
  const key = text.slice(0, at).trim();
  const value = text.slice(at + 1).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key) || key.length > 100) {
    throw new InvalidArgumentError(`"${key}" is not a dimension name (letters, digits, "_", "." or "-")`);
  }
  if (value === '' || value.length > 200) throw new InvalidArgumentError(`dimension ${key}: expected a value of 1 to 200 characters`);
  return { ...previous, [key]: value };
}

/** A count of builds a worker runs at once: 1..64, as an application allows. */
export function parseMaxBuilds(text: string): number {
  const count = parseInteger(text);
  if (count < 1 || count > 64) throw new InvalidArgumentError(`expected 1 to 64, got ${count}`);
  return count;
}

/** Days of history: 1..366, as the API allows. */
export function parseDays(text: string): number {
  const days = parseInteger(text);
  if (days < 1 || days > 366) throw new InvalidArgumentError(`expected 1 to 366, got ${days}`);
  return days;
}

/** A maintenance window as the API takes it: a five-field cron (UTC) and a duration. */
export interface WindowText {
  cron: string;
  duration: string;
}

/**
 * Collects repeated `--window "CRON/DURATION"` (`"0 2 * * 0/3h"`: Sundays
 * at 02:00 UTC for three hours). Split at the last "/", since a cron step
 * (`*\/15`) has one too; the master checks the cron itself.
 */
export function collectWindow(text: string, previous: WindowText[] = []): WindowText[] {
  const at = text.lastIndexOf('/');
  const cron = at < 0 ? '' : text.slice(0, at).trim();
  const duration = at < 0 ? '' : text.slice(at + 1).trim();
  if (!cron || !/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(duration)) {
    throw new InvalidArgumentError(`expected "CRON/DURATION" such as "0 2 * * 0/3h" (Sundays 02:00 UTC, 3 hours), got "${text}"`);
  }
  if (cron.split(/\s+/).length !== 5) throw new InvalidArgumentError(`expected a five-field cron before "/${duration}", got "${cron}"`);
  return [...previous, { cron, duration }];
}
