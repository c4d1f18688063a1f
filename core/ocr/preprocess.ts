/** Image → model input tensors, following the preprocessing recorded in the model manifest. */
import type { Preprocess } from '../models/manifest';
import type { FloatTensor, RgbaImage } from './types';
import { axisTaps } from './raster';

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

/**
 * Bilinear resize (OpenCV INTER_LINEAR sampling) and normalisation in one pass, straight into a planar CHW
 * block: no intermediate 8-bit image, which halves preprocessing time on phones.
 */
export function resizeNormalizeInto(
  image: RgbaImage,
  width: number,
  height: number,
  spec: { channels: 'RGB' | 'BGR'; mean: readonly number[]; std: readonly number[] },
  out: Float32Array,
  offset = 0,
  rowStride = width,
  planeSize = width * height,
): void {
  if (width === image.width && height === image.height) {
    writeNormalizedChw(image, spec, out, offset, rowStride, planeSize);
    return;
  }
  const order = channelIndex(spec.channels);
  const scale = order.map((_, c) => 1 / (255 * spec.std[c]));
  const shift = order.map((_, c) => spec.mean[c] / spec.std[c]);
  const { x0, x1, fx } = axisTaps(image.width, width);
  const { x0: y0, x1: y1, fx: fy } = axisTaps(image.height, height);
  const s = image.data;
  const sw4 = image.width * 4;
  const p0 = offset,
    p1 = offset + planeSize,
    p2 = offset + 2 * planeSize;
  const [c0, c1, c2] = order;
  const [k0, k1, k2] = scale;
  const [m0, m1, m2] = shift;
  for (let y = 0; y < height; y++) {
    const ra = y0[y] * sw4;
    const rb = y1[y] * sw4;
    const wy = fy[y];
    const o = y * rowStride;
    for (let x = 0; x < width; x++) {
      const wx = fx[x];
      const xa = x0[x] * 4;
      const xb = x1[x] * 4;
      const a = ra + xa,
        b = ra + xb,
        c = rb + xa,
        d = rb + xb;
      const w00 = (1 - wx) * (1 - wy),
        w01 = wx * (1 - wy),
        w10 = (1 - wx) * wy,
        w11 = wx * wy;
      out[p0 + o + x] = (s[a + c0] * w00 + s[b + c0] * w01 + s[c + c0] * w10 + s[d + c0] * w11) * k0 - m0;
      out[p1 + o + x] = (s[a + c1] * w00 + s[b + c1] * w01 + s[c + c1] * w10 + s[d + c1] * w11) * k1 - m1;
      out[p2 + o + x] = (s[a + c2] * w00 + s[b + c2] * w01 + s[c + c2] * w10 + s[d + c2] * w11) * k2 - m2;
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
  const data = new Float32Array(3 * size.width * size.height);
  resizeNormalizeInto(image, size.width, size.height, spec, data);
  return { tensor: { data, dims: [1, 3, size.height, size.width] }, ...size };
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
    resizeNormalizeInto(crop, lineWidth(crop, h, width), h, spec, data, n * 3 * plane, width, plane);
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
