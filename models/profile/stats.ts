/** Summaries of repeated timings, and the small fits the profile derives from them. Pure: no I/O. */
import type { LatencyStats } from '../../core/profiles';

/** Nearest-rank percentile (p in 0..1) of samples in any order. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))];
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

/** p50/p90/p95/mean of the measured runs, samples kept (rounded to 0.01 ms) for resampling. */
export function latencyStats(samples: readonly number[]): LatencyStats {
  if (samples.length === 0) throw new Error('no latency samples');
  if (samples.some((s) => !Number.isFinite(s) || s < 0)) throw new Error(`latency samples must be finite and ≥ 0: ${samples.join(', ')}`);
  return {
    n: samples.length,
    p50: round(percentile(samples, 0.5)),
    p90: round(percentile(samples, 0.9)),
    p95: round(percentile(samples, 0.95)),
    mean: round(samples.reduce((a, b) => a + b, 0) / samples.length),
    samples: samples.map((s) => round(s)),
  };
}

export function meanSd(values: readonly number[]): { mean: number; sd: number } {
  if (values.length === 0) return { mean: 0, sd: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, values.length - 1);
  return { mean: round(mean, 3), sd: round(Math.sqrt(variance), 3) };
}

/** Least-squares line y = base + perUnit · x, slope and intercept clamped at 0 (sizes never shrink with more lines). */
export function fitLine(points: readonly { x: number; y: number }[]): { base: number; perUnit: number } {
  if (points.length === 0) throw new Error('no points to fit');
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const perUnit = sxx > 0 ? Math.max(0, sxy / sxx) : 0;
  const base = Math.max(0, my - perUnit * mx);
  return { base: round(base, 1), perUnit: round(perUnit, 1) };
}

/**
 * Extra time of a cold first run over the warm median (never negative): what a request pays when it is the first
 * after the session was created.
 */
export function firstRunExtra(firstMs: number, warm: LatencyStats): number {
  return Math.max(0, firstMs - warm.p50);
}

/** Share of the whole that the head takes (0..1), from the two medians. */
export function share(headMs: number, wholeMs: number): number {
  if (!(wholeMs > 0)) throw new Error(`share of a whole of ${wholeMs} ms`);
  return Math.min(1, Math.max(0, headMs / wholeMs));
}
