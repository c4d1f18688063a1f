/**
 * Recognition crops as the compact recogniser takes them (models/variants/compact-rec.ts): 8-bit YCbCr 4:2:0 —
 * luma at full resolution, chroma averaged over 2 × 2 pixels — 1.5 bytes per pixel instead of the float32 RGB
 * tensor's 12. Made from the batch tensor the pipeline already built, so crops, resizing and padding stay the
 * pipeline's own; the float padding (0 after normalisation) becomes mid-grey 128.
 */
import type { FloatTensor } from './types';

export interface ByteTensor {
  data: Uint8Array;
  dims: number[];
}

export interface CompactCrops {
  /** [N, 1, H, W'] luma; W' is the batch width rounded up to even. */
  luma: ByteTensor;
  /** [N, 2, H/2, W'/2] Cb then Cr. */
  chroma: ByteTensor;
}

/** The normalisation the float tensor carries (the manifest's line `preprocess`). */
export interface LineNormalisation {
  channels: 'RGB' | 'BGR';
  mean: readonly number[];
  std: readonly number[];
}

/** True for a recogniser that takes compact crops: two 8-bit inputs, luma then chroma (its manifest entry's inputs). */
export function takesCompactCrops(model: { inputs: readonly { datatype: string }[] }): boolean {
  return model.inputs.length === 2 && model.inputs.every((t) => t.datatype === 'UINT8');
}

/** The value 8-bit pixels pad with: the nearest to the float tensor's padding, 0 after normalisation. */
export const COMPACT_PAD = 128;

const clampByte = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** Bytes a crop batch of `lines` lines `width` pixels wide takes as compact crops at `height`. */
export function compactCropBytes(lines: number, height: number, width: number): number {
  const w = width + (width & 1);
  return lines * (height * w + 2 * (height / 2) * (w / 2));
}

export function toCompactCrops(tensor: FloatTensor, spec: LineNormalisation): CompactCrops {
  const [n, c, h, w] = tensor.dims;
  if (tensor.dims.length !== 4 || c !== 3 || h % 2) throw new RangeError(`compact crops need [N, 3, even H, W], got [${tensor.dims}]`);
  const we = w + (w & 1);
  const plane = h * w;
  // Model channel k holds R, G or B; undo its normalisation: p = (f · std + mean) · 255.
  const rgbOf = spec.channels === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const scale = [0, 0, 0];
  const shift = [0, 0, 0];
  const planeOf = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    scale[rgbOf[k]] = spec.std[k] * 255;
    shift[rgbOf[k]] = spec.mean[k] * 255;
    planeOf[rgbOf[k]] = k * plane;
  }
  const luma = new Uint8Array(n * h * we).fill(COMPACT_PAD);
  const chroma = new Uint8Array(n * 2 * (h / 2) * (we / 2));
  const cb = new Float32Array(we);
  const cr = new Float32Array(we);
  const d = tensor.data;
  for (let i = 0; i < n; i++) {
    const src = i * 3 * plane;
    const lumaAt = i * h * we;
    const cbAt = i * 2 * (h / 2) * (we / 2);
    const crAt = cbAt + (h / 2) * (we / 2);
    for (let y = 0; y < h; y++) {
      if (!(y & 1)) {
        cb.fill(0);
        cr.fill(0);
      }
      for (let x = 0; x < we; x++) {
        let r = COMPACT_PAD,
          g = COMPACT_PAD,
          b = COMPACT_PAD;
        if (x < w) {
          const o = src + y * w + x;
          r = d[o + planeOf[0]] * scale[0] + shift[0];
          g = d[o + planeOf[1]] * scale[1] + shift[1];
          b = d[o + planeOf[2]] * scale[2] + shift[2];
          luma[lumaAt + y * we + x] = clampByte(0.299 * r + 0.587 * g + 0.114 * b);
        }
        cb[x] += 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
        cr[x] += 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
      }
      if (y & 1) {
        const row = (y >> 1) * (we / 2);
        for (let x = 0; x < we; x += 2) {
          chroma[cbAt + row + (x >> 1)] = clampByte((cb[x] + cb[x + 1]) / 4);
          chroma[crAt + row + (x >> 1)] = clampByte((cr[x] + cr[x + 1]) / 4);
        }
      }
    }
  }
  return { luma: { data: luma, dims: [n, 1, h, we] }, chroma: { data: chroma, dims: [n, 2, h / 2, we / 2] } };
}
