/** What each runtime is timed on: the detector ladder at a typical photo's shape, recognition and orientation batches. */
import { detInputSize } from '../../core/ocr/preprocess';
import type { ProfiledManifestModel } from './models';

export interface DetShape {
  side: number;
  width: number;
  height: number;
}

export interface LatencyPlan {
  models: ProfiledManifestModel[];
  det: DetShape[];
  /** Detector shape for the cold first run after creation. */
  detFirst: DetShape;
  /** Recogniser input width (the set's typical padded line width) and line counts timed. */
  recWidth: number;
  clsWidth: number;
  lineHeight: number;
  lines: number[];
  warmup: number;
  reps: number;
  /** Session creations (each followed by one cold run) per model. */
  creates: number;
}

/** Detector input shapes of an image of the given size at each longest-side limit. */
export function ladderShapes(width: number, height: number, sides: readonly number[], multiple = 32): DetShape[] {
  return sides.map((side) => ({ side, ...detInputSize(width, height, side, multiple) }));
}

export const detPixels = (s: DetShape) => s.width * s.height;

/** Input dims of one timed run of a model, with x in the stage's unit (detector pixels or lines). */
export function shapesOf(plan: LatencyPlan, role: 'det' | 'rec' | 'cls'): { x: number; dims: number[] }[] {
  if (role === 'det') return plan.det.map((s) => ({ x: detPixels(s), dims: [1, 3, s.height, s.width] }));
  const w = role === 'rec' ? plan.recWidth : plan.clsWidth;
  return plan.lines.map((n) => ({ x: n, dims: [n, 3, plan.lineHeight, w] }));
}

export function firstRunDims(plan: LatencyPlan, role: 'det' | 'rec' | 'cls'): { x: number; dims: number[] } {
  if (role === 'det') return { x: detPixels(plan.detFirst), dims: [1, 3, plan.detFirst.height, plan.detFirst.width] };
  return shapesOf(plan, role)[0];
}
