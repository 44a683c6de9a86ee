/**
 * The score history's geometry, kept apart from React: samples (0-100 over
 * time) become SVG polyline points in a fixed box, the farm's line and one
 * per platform. A gap longer than a few sampling intervals (the master was
 * down) breaks the line instead of drawing a slope nobody measured.
 */

/** One recorded sample, as GET /health/history returns it. */
export interface ScoreSample {
  at: number;
  score: number;
  platforms: Record<string, number>;
}

/** The drawing box (SVG user units). */
export interface Box {
  width: number;
  height: number;
  /** Room left of and below the plot for labels. */
  padLeft: number;
  padBottom: number;
}

/** Each line as runs of `x,y` points (one polyline per run). */
export interface ScoreLines {
  farm: string[];
  platforms: { name: string; runs: string[] }[];
  /** The time span drawn. */
  from: number;
  to: number;
}

/** The usual step between samples (the median), used to tell a gap from sampling. */
export function typicalStep(times: readonly number[]): number {
  const steps: number[] = [];
  for (let i = 1; i < times.length; i++) steps.push(times[i]! - times[i - 1]!);
  if (steps.length === 0) return 0;
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)]!;
}

/** The lines of `samples` (oldest first) in `box`; a score is clamped to 0-100. */
export function scoreLines(samples: readonly ScoreSample[], box: Box): ScoreLines {
  const from = samples[0]?.at ?? 0;
  const to = samples[samples.length - 1]?.at ?? from;
  const plotW = box.width - box.padLeft;
  const plotH = box.height - box.padBottom;
  const x = (at: number) => (to === from ? box.padLeft + plotW / 2 : box.padLeft + ((at - from) / (to - from)) * plotW);
  const y = (score: number) => plotH - (Math.min(100, Math.max(0, score)) / 100) * plotH;
  const point = (at: number, score: number) => `${x(at).toFixed(1)},${y(score).toFixed(1)}`;
  const step = typicalStep(samples.map((s) => s.at));
  const gap = step > 0 ? step * 3 : Infinity;

  function runs(values: readonly { at: number; score: number | undefined }[]): string[] {
    const out: string[] = [];
    let current: string[] = [];
    let last: number | null = null;
    for (const { at, score } of values) {
      if (score === undefined || (last !== null && at - last > gap)) {
        if (current.length > 0) out.push(current.join(' '));
        current = [];
      }
      if (score !== undefined) {
        current.push(point(at, score));
        last = at;
      }
    }
    if (current.length > 0) out.push(current.join(' '));
    // A single point still shows: a flat stub of it.
    return out.map((run) => (run.includes(' ') ? run : `${run} ${run}`));
  }

  const names = [...new Set(samples.flatMap((s) => Object.keys(s.platforms)))].sort();
  return {
    farm: runs(samples.map((s) => ({ at: s.at, score: s.score }))),
    platforms: names.map((name) => ({ name, runs: runs(samples.map((s) => ({ at: s.at, score: s.platforms[name] }))) })),
    from,
    to,
  };
}

/** The last sample's score, and how it moved since the first (for the text beside the chart). */
export function scoreTrend(samples: readonly ScoreSample[]): { now: number; change: number } | null {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last) return null;
  return { now: last.score, change: Math.round((last.score - first.score) * 10) / 10 };
}
