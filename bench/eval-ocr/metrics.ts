/// <reference path="../../core/ocr/clipper-lib.d.ts" />
/** Scoring helpers for OCR evaluation: polygon overlap, detection matching, edit distance, word recall. */
import ClipperLib from 'clipper-lib';
import type { Point } from '../../core/ocr/types';

export type Polygon = Point[];

const toPath = (poly: Polygon): ClipperLib.Path => poly.map(([x, y]) => ({ X: Math.round(x * SCALE), Y: Math.round(y * SCALE) }));
/** Clipper works on integers; fixed-point keeps sub-pixel corners. */
const SCALE = 16;

export function polygonArea(poly: Polygon): number {
  return Math.abs(ClipperLib.Clipper.Area(toPath(poly))) / (SCALE * SCALE);
}

export function intersectionArea(a: Polygon, b: Polygon): number {
  const c = new ClipperLib.Clipper();
  c.AddPath(toPath(a), ClipperLib.PolyType.ptSubject, true);
  c.AddPath(toPath(b), ClipperLib.PolyType.ptClip, true);
  const out: ClipperLib.Paths = [];
  c.Execute(ClipperLib.ClipType.ctIntersection, out, ClipperLib.PolyFillType.pftNonZero, ClipperLib.PolyFillType.pftNonZero);
  return out.reduce((s, p) => s + Math.abs(ClipperLib.Clipper.Area(p)), 0) / (SCALE * SCALE);
}

export function iou(a: Polygon, b: Polygon): number {
  const inter = intersectionArea(a, b);
  const union = polygonArea(a) + polygonArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

export interface GtBox {
  points: Polygon;
  ignore: boolean;
}

export interface DetCounts {
  /** Non-ignored ground-truth boxes, and how many of them a prediction matched. */
  gt: number;
  gtMatched: number;
  /** Predictions that count (those only on ignore regions are left out), and how many matched ground truth. */
  pred: number;
  predMatched: number;
}

export interface MatchOptions {
  /** IoU at or above which a prediction matches a box one-to-one. */
  iou: number;
  /** Share of a ground-truth box's area inside a prediction at which the prediction covers it (many-to-one). */
  cover: number;
  /** Share of a prediction's area that the boxes it covers must fill, so one huge box cannot claim everything. */
  fill: number;
}

export const DEFAULT_MATCH: MatchOptions = { iou: 0.5, cover: 0.5, fill: 0.4 };

/**
 * Matches predicted lines to ground-truth boxes, allowing one prediction to cover several word boxes
 * (DetEval-style many-to-one): a box is matched by a prediction with IoU ≥ `iou`, or by one that holds at
 * least `cover` of its area while the covered boxes fill at least `fill` of the prediction. A prediction that
 * matches nothing but lies on ignore boxes (same rules, or mostly inside them) is not counted at all.
 */
export function matchDetections(preds: Polygon[], gts: GtBox[], opts: MatchOptions = DEFAULT_MATCH): DetCounts {
  const gtAreas = gts.map((g) => polygonArea(g.points));
  const gtMatched = gts.map(() => false);
  let pred = 0;
  let predMatched = 0;
  for (const p of preds) {
    const pArea = polygonArea(p);
    if (pArea <= 0) continue;
    const inter = gts.map((g) => intersectionArea(p, g.points));
    const ious = inter.map((x, i) => {
      const u = pArea + gtAreas[i] - x;
      return u > 0 ? x / u : 0;
    });
    const covered = inter.map((x, i) => gtAreas[i] > 0 && x / gtAreas[i] >= opts.cover);
    const fill = inter.reduce((s, x, i) => s + (covered[i] ? x : 0), 0) / pArea;
    const hits = gts.map((_, i) => ious[i] >= opts.iou || (covered[i] && fill >= opts.fill));
    const careHits = hits.map((h, i) => h && !gts[i].ignore);
    if (careHits.some(Boolean)) {
      careHits.forEach((h, i) => {
        if (h) gtMatched[i] = true;
      });
      pred++;
      predMatched++;
      continue;
    }
    const onIgnore = hits.some((h, i) => h && gts[i].ignore) || inter.reduce((s, x, i) => s + (gts[i].ignore ? x : 0), 0) / pArea >= 0.5;
    if (!onIgnore) pred++;
  }
  const care = gts.filter((g) => !g.ignore).length;
  return { gt: care, gtMatched: gtMatched.filter((m, i) => m && !gts[i].ignore).length, pred, predMatched };
}

export function detScores(c: DetCounts): { precision: number; recall: number; hmean: number } {
  const precision = c.pred ? c.predMatched / c.pred : c.gt ? 0 : 1;
  const recall = c.gt ? c.gtMatched / c.gt : 1;
  const hmean = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, hmean };
}

export const addCounts = (a: DetCounts, b: DetCounts): DetCounts => ({
  gt: a.gt + b.gt,
  gtMatched: a.gtMatched + b.gtMatched,
  pred: a.pred + b.pred,
  predMatched: a.predMatched + b.predMatched,
});

/** Levenshtein distance over Unicode code points. */
export function editDistance(a: string, b: string): number {
  const s = [...a];
  const t = [...b];
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[t.length];
}

/**
 * Word-recognition comparison form: case folded, whitespace removed (some labels use spaces for occluded
 * letters, e.g. "latu  e"), accents kept.
 */
export const normalizeWord = (s: string): string => s.toLowerCase().replace(/\s+/g, '');

/** Words as the peer comparison counts them: lower-cased, split on anything not [0-9a-z]. */
export const splitWords = (text: string): string[] =>
  text
    .toLowerCase()
    .split(/[^0-9a-z]+/)
    .filter(Boolean);

/** Labelled words (non-ignored, ≥ 3 characters) found anywhere among the returned words of one image. */
export function wordRecall(labels: { text: string; ignore: boolean }[], returned: string[]): { found: number; total: number } {
  const got = new Set(returned.flatMap(splitWords));
  const want = labels
    .filter((b) => !b.ignore)
    .flatMap((b) => splitWords(b.text))
    .filter((w) => w.length >= 3);
  return { found: want.filter((w) => got.has(w)).length, total: want.length };
}

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: number[], p: number): number {
  if (!samples.length) return NaN;
  const s = samples.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}
