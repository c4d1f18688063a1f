/**
 * The inputs quantisers look at: text pages rendered on the spot (bundled DejaVu Sans, fixed contents), fed through
 * the same preprocessing as the product. Deterministic, so a variant built twice is the same file, and described in
 * data (`CALIBRATION_PAGES`) so the manifest can say exactly what a variant was calibrated on.
 */
import { cropQuad, detTensor, lineBatchTensor, rotate180 } from '../../core/ocr';
import { recBatchWidth } from '../../core/ocr/preprocess';
import type { Preprocess } from '../../core/models/manifest';
import type { RgbaImage } from '../../core/ocr/types';
import { renderTextImage, type TextImageOptions } from '../../test-support/text-image';
import { SOURCES } from '../build/sources';

export interface Feed {
  data: Float32Array;
  dims: number[];
}

export type CalibrationRole = 'det' | 'rec' | 'cls';

/** Detector side limit used for calibration inputs (the product's default request size is 640–960). */
export const CALIBRATION_DET_MAX_SIDE = 640;

export const CALIBRATION_PAGES: TextImageOptions[] = [
  { lines: ['Receipt 2026-03-14 09:41', 'Espresso x2        7.80', 'Croissant          3.20', 'TOTAL EUR         11.00'], width: 800, height: 420 },
  {
    lines: ['Platform 4 departs 17:05', 'Delayed by approx. 10 min', 'Next stop: Basel SBB'],
    width: 720,
    height: 400,
    background: '#1d2633',
    color: '#f5f5f5',
  },
  {
    lines: [
      'The quick brown fox jumps over',
      'the lazy dog. PACK MY BOX WITH',
      'five dozen liquor jugs! 0123456789',
      'e-mail: desk@example.org (ext. 42)',
      'Invoice #A-7731 due 30 days net',
    ],
    width: 960,
    height: 560,
    color: '#203a8f',
  },
];

export const CALIBRATION_DESCRIPTION = {
  generator: 'renderTextImage (test-support/text-image.ts, DejaVu Sans 400)',
  pages: CALIBRATION_PAGES,
  det: `one input per page, longest side ${CALIBRATION_DET_MAX_SIDE} (multiple of 32)`,
  lines: 'each drawn line cropped with 15 % padding (for the classifier also turned 180°), one batch per page, product line preprocessing',
};

const preprocessOf = (role: CalibrationRole): Preprocess => {
  const task = role === 'det' ? 'text-detection' : role === 'rec' ? 'text-recognition' : 'text-orientation';
  return SOURCES.find((s) => s.task === task)!.preprocess;
};

function lineCrops(image: RgbaImage, placements: { x: number; y: number; width: number; height: number }[]): RgbaImage[] {
  return placements.map((p) => {
    const pad = 0.15 * p.height;
    const [x0, y0] = [Math.max(0, p.x - pad), Math.max(0, p.y - pad)];
    const [x1, y1] = [Math.min(image.width - 1, p.x + p.width + pad), Math.min(image.height - 1, p.y + p.height + pad)];
    return cropQuad(image, [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
    ]);
  });
}

const cache = new Map<CalibrationRole, Feed[]>();

/** Model inputs for one role: det → one tensor per page; rec/cls → one batch of that page's lines per page. */
export async function calibrationFeeds(role: CalibrationRole): Promise<Feed[]> {
  const hit = cache.get(role);
  if (hit) return hit;
  const spec = preprocessOf(role);
  const feeds: Feed[] = [];
  for (const page of CALIBRATION_PAGES) {
    const img = await renderTextImage(page);
    if (spec.kind === 'det') {
      feeds.push(detTensor(img.rgba, spec, CALIBRATION_DET_MAX_SIDE).tensor);
    } else {
      const upright = lineCrops(img.rgba, img.placements);
      // The orientation classifier exists to see upside-down lines; calibrate it on both.
      const crops = spec.kind === 'cls' ? [...upright, ...upright.map(rotate180)] : upright;
      const width = spec.kind === 'rec' ? recBatchWidth(crops, spec, 320) : spec.maxWidth;
      feeds.push(lineBatchTensor(crops, spec, width));
    }
  }
  cache.set(role, feeds);
  return feeds;
}
