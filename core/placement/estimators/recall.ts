/**
 * Word recall of each detector configuration on this photo, predicted before running it. The profiles give one
 * figure per configuration, a mean over their photo set; what a smaller detector side loses depends on the photo:
 * text that is small in the detector's input vanishes. Two things known before running tell how small it is: how
 * far the side shrinks the photo, and how many lines the photo is expected to hold. On the development set a
 * street scene of three words keeps a fifth of them at 320 px and two thirds at 640, while a receipt of seventy
 * lines keeps half at 320 and nearly all at 480: few lines in a large photo are small text in a big scene, many
 * lines are a document filling the frame.
 *
 * What a photo keeps at side s of what it reads at the largest profiled side is a logistic in ln(scale) and
 * ln(1 + lines), scale being s over the photo's longest side (1 when the photo is no larger). Its constants are
 * fitted on the development set's per-photo recall (`npm run eval:photo-recall`, then `npm run fit:photo-recall`;
 * 90 ICDAR 2015 scenes and 24 SROIE receipts at 320–960 px), with the line count found at 960 px standing in for
 * the planner's estimate.
 */
import type { ReencodeProfile } from '../../profiles';
import type { PlanSpace } from '../plan-space';
import type { ShapeLinesMeans } from './lines';

export interface KeptFit {
  intercept: number;
  /** Weight of ln(side / longest side). */
  scale: number;
  /** Weight of ln(1 + lines). */
  lines: number;
}

/** Fitted on the development set by bench/eval-ocr/fit-photo-recall.ts. */
export const KEPT_FIT: KeptFit = { intercept: -0.625, scale: 2.134, lines: 1.09 };
const MIN_RECALL = 0.01;

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Share of what the photo reads at side `full` that it still reads at `side` (at most 1). */
export function keptAtSide(fit: KeptFit, side: number, longest: number, lines: number, full: number): number {
  if (!(longest > 0) || side >= full) return 1;
  const z = (s: number) => fit.intercept + fit.scale * Math.log(Math.min(1, s / longest)) + fit.lines * Math.log1p(Math.max(0, lines));
  const kept = sigmoid(z(side)) / sigmoid(z(full));
  return kept < 1 ? kept : 1;
}

/**
 * Fills `out[c]` with configuration c's expected word recall for a photo of `longest` pixels on its longest side
 * expected to hold `lines` lines: the recall of the same models at the largest profiled side times what this photo
 * keeps at c's side.
 */
export function recallForPhoto(
  space: PlanSpace,
  longest: number,
  lines: number,
  out: Float64Array,
  fit: KeptFit = KEPT_FIT,
  /** Filled with what each configuration keeps (the share of `out[c]` over the full side's recall), when given. */
  keptOut?: Float64Array,
): Float64Array {
  const configs = space.configs;
  for (let c = 0; c < configs.length; c++) {
    const { det, rec, maxSide } = configs[c];
    let full = configs[c];
    for (const o of configs) if (o.det === det && o.rec === rec && o.maxSide > full.maxSide) full = o;
    const kept = keptAtSide(fit, maxSide, longest, lines, full.maxSide);
    const r = full.accuracy * kept;
    out[c] = r > MIN_RECALL ? r : MIN_RECALL;
    if (keptOut !== undefined) keptOut[c] = kept;
  }
  return out;
}

/**
 * Chance that a read at a configuration finds at least one line, its lines taken as Poisson around the photo's
 * expected lines times what the configuration keeps of its words (lines go as the words on them). On the development
 * set's 85 street scenes with text this predicts 51, 34 and 23 reading no line at 320, 480 and 640 px against 60, 33
 * and 16 measured (`photo-recall.json`); receipts never read empty.
 */
export function chanceOfLines(lines: number, kept: number): number {
  return 1 - Math.exp(-Math.max(0, lines) * Math.max(0, kept));
}

/** "960q60": a re-encode option's name in the fitted tables and the per-photo measurements. */
export const reencodeKey = (r: { maxSide: number; quality: number }): string => `${r.maxSide}q${Math.round(r.quality * 100)}`;

/**
 * Word recall a re-encoded upload keeps of the original's, by the photo's shape, per option: words found on the
 * re-encoded photos over words found on the originals, both at the largest side the upload allows (dev set, fitted
 * by bench/eval-ocr/fit-photo-recall.ts from `npm run eval:photo-recall`). The profiles' one factor per option counts
 * words over the whole set, where receipts hold nine in ten of them, and a street scene's small print loses more:
 * 640 px at 80 % keeps 0.85 of a scene's words against 0.92 of a receipt's (the profile says 0.92 for both).
 */
export const REENCODE_KEPT_BY_SHAPE: Readonly<Record<string, ShapeLinesMeans>> = {
  '640q80': { portrait: 0.918, landscape: 0.846 },
  '960q60': { portrait: 0.969, landscape: 0.937 },
  '960q80': { portrait: 0.975, landscape: 0.933 },
  '1280q80': { portrait: 0.99, landscape: 0.955 },
};

/** The share of the original's recall a re-encoded upload keeps on a photo of this shape (the profile's figure when not fitted). */
export function reencodeRecallFactor(re: ReencodeProfile, shape: keyof ShapeLinesMeans | null): number {
  const byShape = REENCODE_KEPT_BY_SHAPE[reencodeKey(re)];
  return byShape === undefined || shape === null ? re.recallFactor : byShape[shape];
}
