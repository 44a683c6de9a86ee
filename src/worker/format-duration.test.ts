import { expect, it } from 'vitest';
import { formatDuration } from './format-duration.js';

it('formats durations for log lines', () => {
  expect([300, 1000, 1500, 59_940, 60_000, 61_000, 1_200_000, 5_400_000, 7_200_000].map(formatDuration)).toEqual([
    '300ms',
    '1s',
    '1.5s',
    '59.9s',
    '1m',
    '1m1s',
    '20m',
    '1h30m',
    '2h',
  ]);
});
