/**
 * Differentiable-Binarization post-processing (PaddleOCR DBPostProcess, "fast" box score): probability map →
 * text-line quadrilaterals in original image pixels, in reading order.
 */
import type { Point } from './types';
import { findRegions } from './components';
import { miniBox, orderClockwise, type Quad } from './geometry';
import { unclip } from './unclip';

export interface DbParams {
  /** Probability above which a pixel is text. */
  thresh: number;
  /** Minimum mean probability inside a candidate box. */
  boxThresh: number;
  unclipRatio: number;
  /** Shortest side (prob-map pixels) a candidate must have. */
  minSize: number;
  maxCandidates: number;
}

export const DEFAULT_DB_PARAMS: DbParams = { thresh: 0.3, boxThresh: 0.6, unclipRatio: 1.5, minSize: 3, maxCandidates: 1000 };

export interface DetectedBox {
  /** Clockwise from top-left, integer pixels of the original image. */
  box: Quad;
  score: number;
}

export interface ProbMap {
  data: Float32Array;
  width: number;
  height: number;
}

/**
 * Mean probability over the pixels a convex quad covers (OpenCV fillPoly semantics: integer vertices, pixels on
 * the edges included), summed row by row over each row's covered span.
 */
export function boxScore(prob: ProbMap, box: Point[]): number {
  const { data, width: w, height: h } = prob;
  const poly = box.map(([x, y]) => [Math.trunc(x), Math.trunc(y)] as Point);
  const ys = poly.map((p) => p[1]);
  const ymin = Math.max(0, Math.min(...ys));
  const ymax = Math.min(h - 1, Math.max(...ys));
  let sum = 0;
  let n = 0;
  for (let y = ymin; y <= ymax; y++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < poly.length; i++) {
      const [ax, ay] = poly[i];
      const [bx, by] = poly[(i + 1) % poly.length];
      if ((y < ay && y < by) || (y > ay && y > by)) continue;
      if (ay === by) {
        lo = Math.min(lo, ax, bx);
        hi = Math.max(hi, ax, bx);
      } else {
        const x = ax + ((y - ay) * (bx - ax)) / (by - ay);
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
    }
    if (lo > hi) continue;
    const x0 = Math.max(0, Math.ceil(lo - 0.5));
    const x1 = Math.min(w - 1, Math.floor(hi + 0.5));
    const row = y * w;
    for (let x = x0; x <= x1; x++) sum += data[row + x];
    if (x1 >= x0) n += x1 - x0 + 1;
  }
  return n ? sum / n : 0;
}

export function dbPostprocess(prob: ProbMap, dest: { width: number; height: number }, params: DbParams = DEFAULT_DB_PARAMS): DetectedBox[] {
  const { width, height, data } = prob;
  const bitmap = new Uint8Array(width * height);
  for (let i = 0; i < bitmap.length; i++) bitmap[i] = data[i] > params.thresh ? 1 : 0;
  const regions = findRegions(bitmap, width, height).slice(0, params.maxCandidates);

  const sx = dest.width / width;
  const sy = dest.height / height;
  const out: DetectedBox[] = [];
  for (const region of regions) {
    const first = miniBox(region.points);
    if (first.shortSide < params.minSize) continue;
    const score = boxScore(prob, first.box);
    if (score < params.boxThresh) continue;
    const grown = unclip(first.box, params.unclipRatio);
    if (!grown) continue;
    const fitted = miniBox(grown);
    if (fitted.shortSide < params.minSize + 2) continue;
    const scaled = fitted.box.map(
      ([x, y]) => [Math.min(Math.max(Math.round(x * sx), 0), dest.width), Math.min(Math.max(Math.round(y * sy), 0), dest.height)] as Point,
    ) as Quad;
    const box = orderClockwise(scaled).map(
      ([x, y]) => [Math.trunc(Math.min(Math.max(x, 0), dest.width - 1)), Math.trunc(Math.min(Math.max(y, 0), dest.height - 1))] as Point,
    ) as Quad;
    const boxW = Math.trunc(Math.hypot(box[0][0] - box[1][0], box[0][1] - box[1][1]));
    const boxH = Math.trunc(Math.hypot(box[0][0] - box[3][0], box[0][1] - box[3][1]));
    if (boxW <= 3 || boxH <= 3) continue;
    out.push({ box, score });
  }
  return sortBoxes(out);
}

/**
 * Reading order as PaddleOCR's sorted_boxes: by top-left y then x, then neighbours whose top-left corners are
 * within 10 px vertically are put left-to-right (one bubble pass), so a line reads left to right.
 */
export function sortBoxes<T extends { box: Quad }>(items: T[]): T[] {
  const s = items.slice().sort((a, b) => a.box[0][1] - b.box[0][1] || a.box[0][0] - b.box[0][0]);
  for (let i = 0; i < s.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      if (Math.abs(s[j + 1].box[0][1] - s[j].box[0][1]) < 10 && s[j + 1].box[0][0] < s[j].box[0][0]) {
        [s[j], s[j + 1]] = [s[j + 1], s[j]];
      } else break;
    }
  }
  return s;
}
