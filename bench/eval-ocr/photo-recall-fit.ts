/** Fitting the planner's per-photo recall to measured per-photo recall (see fit-photo-recall.ts). */
import { shapeOf, type ShapeLinesMeans } from '../../core/placement/estimators/lines';
import { keptAtSide, reencodeKey, type KeptFit } from '../../core/placement/estimators/recall';
import type { PhotoRecallReport } from './photo-recall';

export interface KeptSample {
  dataset: string;
  side: number;
  longest: number;
  lines: number;
  /** Words found at this side over words found at the largest side (at most 1). */
  kept: number;
  /** Words found at the largest side. */
  weight: number;
}

export function keptSamples(report: PhotoRecallReport): { samples: KeptSample[]; full: number; sides: number[] } {
  const full = Math.max(...report.sides);
  const sides = report.sides.filter((s) => s < full);
  const samples: KeptSample[] = [];
  for (const p of report.photos) {
    const ref = p.sides[full];
    if (!ref || ref.found === 0) continue;
    for (const side of sides) {
      samples.push({
        dataset: p.dataset,
        side,
        longest: Math.max(p.width, p.height),
        lines: ref.lines,
        kept: Math.min(1, p.sides[side].found / ref.found),
        weight: ref.found,
      });
    }
  }
  return { samples, full, sides };
}

export function keptLoss(fit: KeptFit, samples: readonly KeptSample[], full: number): number {
  return samples.reduce((sum, s) => sum + s.weight * (keptAtSide(fit, s.side, s.longest, s.lines, full) - s.kept) ** 2, 0);
}

/** Weighted least squares by coordinate search with shrinking steps: three parameters and a smooth loss. */
export function fitKept(samples: readonly KeptSample[], full: number): { fit: KeptFit; rms: number } {
  let fit: KeptFit = { intercept: 0, scale: 2, lines: 0.5 };
  let best = keptLoss(fit, samples, full);
  let step = 1;
  while (step > 1e-4) {
    let improved = false;
    for (const key of ['intercept', 'scale', 'lines'] as const) {
      for (const dir of [1, -1]) {
        const trial = { ...fit, [key]: fit[key] + dir * step };
        const l = keptLoss(trial, samples, full);
        if (l < best) {
          best = l;
          fit = trial;
          improved = true;
        }
      }
    }
    if (!improved) step /= 2;
  }
  const weight = samples.reduce((s, x) => s + x.weight, 0);
  return { fit, rms: Math.sqrt(best / weight) };
}

/**
 * Per re-encode option measured, per photo shape: words found on the re-encoded photos over words found on the
 * originals at the same side (the largest the upload allows), summed over the shape's photos.
 */
export function reencodeKeptByShape(report: PhotoRecallReport): Record<string, ShapeLinesMeans> {
  const largest = Math.max(...report.sides);
  const out: Record<string, ShapeLinesMeans> = {};
  for (const opt of report.reencodes ?? []) {
    const key = reencodeKey(opt);
    const side = Math.min(opt.maxSide, largest);
    const kept: ShapeLinesMeans = { portrait: 1, landscape: 1 };
    for (const shape of ['portrait', 'landscape'] as const) {
      let reencoded = 0;
      let original = 0;
      for (const p of report.photos) {
        const r = p.reencodes?.[key];
        if (r === undefined || shapeOf(p.width, p.height) !== shape) continue;
        reencoded += r.found;
        original += p.sides[side].found;
      }
      kept[shape] = original > 0 ? Math.round((reencoded / original) * 1e3) / 1e3 : 1;
    }
    out[key] = kept;
  }
  return out;
}

/** A power law in bytes, as the planner's LINES_BY_SHAPE takes it. */
export interface BytesLaw {
  lines: number;
  atBytes: number;
  exponent: number;
  /** The lognormal residual's sd as a share of the mean. */
  relSd: number;
  /** The smallest and largest photo fitted. */
  minBytes: number;
  maxBytes: number;
}

/**
 * Least squares of ln(lines) on ln(bytes) over photos with lines (lines found at the largest side), turned into a
 * mean at `atBytes` (the lognormal's mean, exp(σ²/2) above its median) and a relative spread (√(exp(σ²) − 1)), with
 * the mean relative error of predicting
 * each photo from the others by the law and by the photos' plain mean.
 */
export function fitLinesByBytes(
  rows: readonly { bytes: number; lines: number }[],
  atBytes: number,
): { law: BytesLaw; leaveOneOut: { law: number; mean: number } } {
  const fit = (rs: readonly { bytes: number; lines: number }[]) => {
    const x = rs.map((r) => Math.log(r.bytes));
    const y = rs.map((r) => Math.log(r.lines));
    const mx = x.reduce((a, b) => a + b, 0) / x.length;
    const my = y.reduce((a, b) => a + b, 0) / y.length;
    const sxx = x.reduce((a, v) => a + (v - mx) ** 2, 0);
    const slope = sxx > 0 ? x.reduce((a, v, i) => a + (v - mx) * (y[i] - my), 0) / sxx : 0;
    const residual = y.reduce((a, v, i) => a + (v - my - slope * (x[i] - mx)) ** 2, 0) / y.length;
    const at = (bytes: number) => Math.exp(my + slope * (Math.log(bytes) - mx) + residual / 2);
    return Object.assign(at, { relSd: Math.sqrt(Math.expm1(residual)) });
  };
  const used = rows.filter((r) => r.lines > 0 && r.bytes > 0);
  const all = fit(used);
  const exponent = Math.log(all(2 * atBytes) / all(atBytes)) / Math.LN2;
  let law = 0;
  let mean = 0;
  for (let i = 0; i < used.length; i++) {
    const others = used.filter((_, j) => j !== i);
    law += Math.abs(fit(others)(used[i].bytes) / used[i].lines - 1);
    mean += Math.abs(others.reduce((a, r) => a + r.lines, 0) / others.length / used[i].lines - 1);
  }
  return {
    law: {
      lines: Math.round(all(atBytes) * 10) / 10,
      atBytes,
      exponent: Math.round(exponent * 1e3) / 1e3,
      relSd: Math.round(all.relSd * 1e3) / 1e3,
      minBytes: Math.min(...used.map((r) => r.bytes)),
      maxBytes: Math.max(...used.map((r) => r.bytes)),
    },
    leaveOneOut: { law: law / used.length, mean: mean / used.length },
  };
}
