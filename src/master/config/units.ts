/**
 * Durations (`500ms`, `30s`, `5m`, `1h`, `14d`) and sizes (`64KB`, `10MB`,
 * `2GB`) as written in configuration files, and their zod schemas.
 */
import { z } from 'zod';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** Parses `500ms`, `30s`, `5m`, `1h`, `14d` (or `0`) to milliseconds; null when it is not one. */
export function parseDuration(text: string): number | null {
  if (text.trim() === '0') return 0;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!match) return null;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]!]!);
}

/** Formats milliseconds the way a config file would write them. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Parses `512B`, `64KB`, `10MB`, `2GB` (binary multiples) to bytes; null when it is not one. */
export function parseSize(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)\s*$/i.exec(text);
  if (!match) return null;
  return Math.round(Number(match[1]) * SIZE_UNITS[match[2]!.toUpperCase()]!);
}

/** A duration in a config file, parsed to milliseconds; a bare `0` (YAML reads it as a number) is allowed too. */
export const Duration = z
  .union([z.string(), z.literal(0)])
  .transform((value, ctx) => {
    const text = String(value);
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like "30s", got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'a duration: 500ms, 30s, 5m, 1h, 14d' });

/** A size in a config file, parsed to bytes. */
export const Size = z
  .string()
  .transform((text, ctx) => {
    const bytes = parseSize(text);
    if (bytes === null) {
      ctx.addIssue({ code: 'custom', message: `expected a size like "64MB", got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return bytes;
  })
  .meta({ description: 'a size: 512B, 64KB, 10MB, 2GB' });

/** Sizes for people: `512 B`, `3.2 KiB`, `100 MiB`, `1.5 GiB` (binary multiples, as config sizes are). */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 || Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${text} ${units[unit]}`;
}
