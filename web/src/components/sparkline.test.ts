import { describe, expect, it } from 'vitest';
import { scoreLines, scoreTrend, typicalStep, type ScoreSample } from './sparkline.js';

const BOX = { width: 110, height: 110, padLeft: 10, padBottom: 10 };
const HOUR = 3_600_000;

function sample(hour: number, score: number, platforms: Record<string, number> = {}): ScoreSample {
  return { at: hour * HOUR, score, platforms };
}

describe('scoreLines', () => {
  it('spans the box: the oldest sample at the left edge, the newest at the right, 100 at the top and 0 at the bottom', () => {
    const lines = scoreLines([sample(0, 100), sample(1, 50), sample(2, 0)], BOX);
    expect(lines.farm).toEqual(['10.0,0.0 60.0,50.0 110.0,100.0']);
    expect(lines.from).toBe(0);
    expect(lines.to).toBe(2 * HOUR);
  });

  it('draws one line per platform, and breaks a line where a platform has no score', () => {
    const lines = scoreLines([sample(0, 80, { a: 100, b: 40 }), sample(1, 80, { a: 100 }), sample(2, 90, { a: 50, b: 60 })], BOX);
    expect(lines.platforms.map((p) => p.name)).toEqual(['a', 'b']);
    expect(lines.platforms[0]!.runs).toHaveLength(1);
    expect(lines.platforms[1]!.runs).toHaveLength(2);
  });

  it('breaks the line over a gap of more than three sampling intervals (the master was down)', () => {
    const lines = scoreLines([sample(0, 90), sample(1, 90), sample(2, 90), sample(10, 70), sample(11, 70)], BOX);
    expect(lines.farm).toHaveLength(2);
  });

  it('shows a single sample as a stub in the middle, and clamps scores to 0-100', () => {
    expect(scoreLines([sample(5, 140)], BOX).farm).toEqual(['60.0,0.0 60.0,0.0']);
    expect(scoreLines([], BOX).farm).toEqual([]);
  });
});

describe('typicalStep and scoreTrend', () => {
  it('takes the median step, so one gap does not stretch it', () => {
    expect(typicalStep([0, 1, 2, 3, 100])).toBe(1);
    expect(typicalStep([5])).toBe(0);
  });
  it('says where the score is and how it moved', () => {
    expect(scoreTrend([sample(0, 70), sample(1, 85)])).toEqual({ now: 85, change: 15 });
    expect(scoreTrend([])).toBeNull();
  });
});
