/** Image → model input tensors, following the preprocessing recorded in the model manifest. */
import type { Preprocess } from '../models/manifest';
import type { FloatTensor, RgbaImage } from './types';
import { resizeBilinear } from './raster';

export type DetPreprocess = Extract<Preprocess, { kind: 'det' }>;
export type LinePreprocess = Extract<Preprocess, { kind: 'rec' | 'cls' }>;

/**
 * Detector input size: keep the aspect ratio, shrink so the longest side is at most `maxSide` (never enlarge),
 * then round each side to a multiple of `multiple` (the detector downsamples by 32), at least one multiple.
 */
export function detInputSize(width: number, height: number, maxSide: number, multiple = 32): { width: number; height: number } {
  const longest = Math.max(width, height);
  const ratio = longest > maxSide ? maxSide / longest : 1;
  const round = (v: number) => Math.max(multiple, Math.round((v * ratio) / multiple) * multiple);
  return { width: round(width), height: round(height) };
}

const channelIndex = (channels: 'RGB' | 'BGR'): [number, number, number] => (channels === 'BGR' ? [2, 1, 0] : [0, 1, 2]);

/**
 * Writes (pixel/255 - mean[c]) / std[c] into a planar CHW block at `offset`; `rowStride` lets a narrower image
 * sit left-aligned in a wider (zero-padded) slot.
 */
export function writeNormalizedChw(
  image: RgbaImage,
  spec: { channels: 'RGB' | 'BGR'; mean: readonly number[]; std: readonly number[] },
  out: Float32Array,
  offset = 0,
  rowStride = image.width,
  planeSize = image.width * image.height,
): void {
  const order = channelIndex(spec.channels);
  const { width, height, data } = image;
  for (let c = 0; c < 3; c++) {
    const src = order[c];
    const scale = 1 / (255 * spec.std[c]);
    const shift = spec.mean[c] / spec.std[c];
    const plane = offset + c * planeSize;
    for (let y = 0; y < height; y++) {
      let o = plane + y * rowStride;
      let i = y * width * 4 + src;
      for (let x = 0; x < width; x++, i += 4) out[o++] = data[i] * scale - shift;
    }
  }
}

export function normalizeToNchw(image: RgbaImage, spec: { channels: 'RGB' | 'BGR'; mean: readonly number[]; std: readonly number[] }): FloatTensor {
  const data = new Float32Array(3 * image.width * image.height);
  writeNormalizedChw(image, spec, data);
  return { data, dims: [1, 3, image.height, image.width] };
}

/** Resized + normalised detector input; `width`/`height` are the size the detector runs at. */
export function detTensor(image: RgbaImage, spec: DetPreprocess, maxSide = spec.maxSide): { tensor: FloatTensor; width: number; height: number } {
  const size = detInputSize(image.width, image.height, maxSide, spec.multiple);
  const resized = size.width === image.width && size.height === image.height ? image : resizeBilinear(image, size.width, size.height);
  return { tensor: normalizeToNchw(resized, spec), ...size };
}

/** Width a crop takes at the line height, before padding: ceil(height * aspect), capped at `maxWidth`. */
export function lineWidth(crop: RgbaImage, height: number, maxWidth: number): number {
  return Math.max(1, Math.min(maxWidth, Math.ceil((height * crop.width) / crop.height)));
}

/**
 * Batch of text-line crops as one [N, 3, H, W] tensor: each crop resized to height H keeping its aspect
 * (squeezed when wider than W), normalised, left-aligned, right side padded with 0 (as PaddleOCR pads).
 */
export function lineBatchTensor(crops: RgbaImage[], spec: LinePreprocess, width: number): FloatTensor {
  const h = spec.height;
  const plane = h * width;
  const data = new Float32Array(crops.length * 3 * plane);
  crops.forEach((crop, n) => {
    const w = lineWidth(crop, h, width);
    const resized = crop.width === w && crop.height === h ? crop : resizeBilinear(crop, w, h);
    writeNormalizedChw(resized, spec, data, n * 3 * plane, width, plane);
  });
  return { data, dims: [crops.length, 3, h, width] };
}

/**
 * Common padded width of a recognition batch: wide enough for its widest crop at line height, never below
 * `minWidth` (the width the recogniser was trained at) and never above the manifest's `maxWidth`.
 */
export function recBatchWidth(crops: RgbaImage[], spec: LinePreprocess, minWidth: number): number {
  let widest = minWidth;
  for (const c of crops) widest = Math.max(widest, Math.ceil((spec.height * c.width) / c.height));
  return Math.min(spec.maxWidth, widest);
}
