/** Pixel operations on RGBA images, in plain TypeScript so they run identically on the phone, in workers and on the edge. */
import type { RgbaImage } from './types';
import { ocrError } from './errors';

export function assertRgba(image: RgbaImage, what = 'image'): void {
  const { width, height, data } = image ?? ({} as RgbaImage);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw ocrError('OcrBadImage', `${what} must have positive integer width and height (got ${width}x${height}).`);
  }
  if (!data || data.length !== width * height * 4) {
    throw ocrError(
      'OcrBadImage',
      `${what} data must hold width*height*4 = ${width * height * 4} RGBA bytes (got ${data?.length ?? 'none'}); decode it to RGBA first.`,
    );
  }
}

/**
 * Bilinear resize with half-pixel centres and edge clamping, the sampling OpenCV's INTER_LINEAR uses,
 * so the models see the same pixels as in the reference implementation.
 */
export function resizeBilinear(src: RgbaImage, width: number, height: number): RgbaImage {
  const out = new Uint8ClampedArray(width * height * 4);
  const { x0, x1, fx } = axisTaps(src.width, width);
  const { x0: y0, x1: y1, fx: fy } = axisTaps(src.height, height);
  const s = src.data;
  const sw = src.width;
  for (let y = 0; y < height; y++) {
    const ra = y0[y] * sw;
    const rb = y1[y] * sw;
    const wy = fy[y];
    let o = y * width * 4;
    for (let x = 0; x < width; x++) {
      const wx = fx[x];
      const a = (ra + x0[x]) * 4;
      const b = (ra + x1[x]) * 4;
      const c = (rb + x0[x]) * 4;
      const d = (rb + x1[x]) * 4;
      for (let k = 0; k < 4; k++) {
        const top = s[a + k] + (s[b + k] - s[a + k]) * wx;
        const bot = s[c + k] + (s[d + k] - s[c + k]) * wx;
        out[o++] = top + (bot - top) * wy;
      }
    }
  }
  return { data: out, width, height };
}

export function axisTaps(srcSize: number, dstSize: number): { x0: Int32Array; x1: Int32Array; fx: Float32Array } {
  const x0 = new Int32Array(dstSize);
  const x1 = new Int32Array(dstSize);
  const fx = new Float32Array(dstSize);
  const scale = srcSize / dstSize;
  for (let i = 0; i < dstSize; i++) {
    let sx = (i + 0.5) * scale - 0.5;
    if (sx < 0) sx = 0;
    let i0 = Math.floor(sx);
    if (i0 > srcSize - 1) i0 = srcSize - 1;
    x0[i] = i0;
    x1[i] = Math.min(i0 + 1, srcSize - 1);
    fx[i] = Math.min(sx - i0, 1);
  }
  return { x0, x1, fx };
}

export function rotate180(src: RgbaImage): RgbaImage {
  const n = src.width * src.height;
  const out = new Uint8ClampedArray(n * 4);
  const s = src.data;
  for (let i = 0; i < n; i++) {
    const j = (n - 1 - i) * 4;
    out[i * 4] = s[j];
    out[i * 4 + 1] = s[j + 1];
    out[i * 4 + 2] = s[j + 2];
    out[i * 4 + 3] = s[j + 3];
  }
  return { data: out, width: src.width, height: src.height };
}

/** Quarter turn counter-clockwise (numpy's rot90), used to lay vertical text lines down. */
export function rotate90ccw(src: RgbaImage): RgbaImage {
  const { width: w, height: h } = src;
  const out = new Uint8ClampedArray(w * h * 4);
  const s = src.data;
  // Output is h wide and w tall; output (x, y) comes from source (w - 1 - y, x).
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < h; x++) {
      const si = (x * w + (w - 1 - y)) * 4;
      const oi = (y * h + x) * 4;
      out[oi] = s[si];
      out[oi + 1] = s[si + 1];
      out[oi + 2] = s[si + 2];
      out[oi + 3] = s[si + 3];
    }
  }
  return { data: out, width: h, height: w };
}
