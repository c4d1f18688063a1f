/**
 * Recognition cost is driven by the recogniser's input width, not by the number of lines: every crop is resized
 * to the input height keeping its aspect, so a receipt line is three to ten times the work of a street sign. The
 * profiles time lines of one fixed width (`transfer.cropBytesPerLine`, float32 RGB at the input height); the
 * planner counts recognition in those "profiled lines": lines × width factor.
 */
import type { Profiles } from '../profiles';
import type { Point } from '../ocr/types';
import { DEFAULT_REC_BATCH } from '../ocr/config';

/** Recogniser input height of the PP-OCR recognisers the profiles time (their crops' bytes are 3 × 4 × 48 × width). */
export const REC_INPUT_HEIGHT = 48;
/** The pipeline's narrowest padded line and the manifest's widest (core/ocr config, models manifest). */
const MIN_LINE_WIDTH = 48;
const MAX_LINE_WIDTH = 3200;

/** Width of the lines the profiles timed, in pixels at the recogniser's input height. */
export function profiledLineWidth(profiles: Profiles): number {
  return profiles.transfer.cropBytesPerLine / (3 * 4 * REC_INPUT_HEIGHT);
}

const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);

/**
 * Total recogniser input width of a result's lines, in pixels at the input height: each box cut out as core/ocr
 * crops it (longer opposite sides; turned upright when 1.5 times taller than wide) and scaled to the input height.
 */
export function recInputWidth(lines: readonly { box: readonly [Point, Point, Point, Point] }[]): number {
  let total = 0;
  for (const { box } of lines) {
    let w = Math.max(dist(box[0], box[1]), dist(box[3], box[2]));
    let h = Math.max(dist(box[0], box[3]), dist(box[1], box[2]));
    if (!(w > 0 && h > 0)) continue;
    if (h / w >= 1.5) [w, h] = [h, w];
    total += Math.max(MIN_LINE_WIDTH, Math.min(MAX_LINE_WIDTH, Math.ceil((REC_INPUT_HEIGHT * w) / h)));
  }
  return total;
}

/** Measured width factor of `lines` lines of total input width `inputWidth` (NaN when nothing was measured). */
export function widthFactorOf(inputWidth: number | undefined, lines: number, profiled: number): number {
  return inputWidth !== undefined && inputWidth > 0 && lines > 0 && profiled > 0 ? inputWidth / (lines * profiled) : NaN;
}

/**
 * Share of its one-batch-after-another time that an edge with `workers` worker slots takes to recognise `lines` lines
 * of one photo: its pipeline runs the first batch alone (it picks the model the others use), then the rest on every
 * slot at once (PipelineConfig.recParallel). Forty receipt lines are seven batches: four batch times on two slots, 0.57.
 * Smooth in the expected line count; 1 for a single batch or a single slot.
 */
export function edgeRecLaneShare(lines: number, workers: number): number {
  const batches = lines / DEFAULT_REC_BATCH;
  if (!(batches > 1) || !(workers > 1)) return 1;
  return (1 + (batches - 1) / workers) / batches;
}
