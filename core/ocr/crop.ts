/** Cuts a text quadrilateral out of the image as an upright rectangle (PaddleOCR get_rotate_crop_image). */
import type { Point, RgbaImage } from './types';
import { rotate90ccw } from './raster';

/** Solves A x = b (n×n, row-major) by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const d = m[c][c];
    if (Math.abs(d) < 1e-12) throw new Error('degenerate quadrilateral');
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / d;
      if (f === 0) continue;
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/** 3×3 homography (row-major, h33 = 1) taking each `from[i]` to `to[i]`. */
export function perspectiveTransform(from: Point[], to: Point[]): number[] {
  const a: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i];
    const [u, v] = to[i];
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y]);
    b.push(u);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y]);
    b.push(v);
  }
  return [...solve(a, b), 1];
}

/**
 * Warps `quad` (clockwise from top-left) to a width × height rectangle sized by its longer opposite sides,
 * sampling bilinearly with edges replicated; lines at least 1.5× taller than wide are turned a quarter
 * counter-clockwise so vertical text lies down.
 */
export function cropQuad(image: RgbaImage, quad: [Point, Point, Point, Point]): RgbaImage {
  const d = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  const w = Math.max(1, Math.trunc(Math.max(d(quad[0], quad[1]), d(quad[2], quad[3]))));
  const h = Math.max(1, Math.trunc(Math.max(d(quad[0], quad[3]), d(quad[1], quad[2]))));
  let m: number[];
  try {
    m = perspectiveTransform(
      [
        [0, 0],
        [w, 0],
        [w, h],
        [0, h],
      ],
      quad,
    );
  } catch {
    // A collapsed quad has no perspective map; its axis-aligned bounds still give the recogniser something.
    const xs = quad.map((p) => p[0]);
    const ys = quad.map((p) => p[1]);
    const x0 = Math.min(...xs),
      y0 = Math.min(...ys);
    m = [Math.max(...xs) > x0 ? (Math.max(...xs) - x0) / w : 0, 0, x0, 0, Math.max(...ys) > y0 ? (Math.max(...ys) - y0) / h : 0, y0, 0, 0, 1];
  }
  const out = new Uint8ClampedArray(w * h * 4);
  const src = image.data;
  const sw = image.width;
  const maxX = image.width - 1;
  const maxY = image.height - 1;
  let o = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const z = m[6] * x + m[7] * y + m[8];
      let sx = (m[0] * x + m[1] * y + m[2]) / z;
      let sy = (m[3] * x + m[4] * y + m[5]) / z;
      sx = sx < 0 ? 0 : sx > maxX ? maxX : sx;
      sy = sy < 0 ? 0 : sy > maxY ? maxY : sy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = x0 < maxX ? x0 + 1 : x0;
      const y1 = y0 < maxY ? y0 + 1 : y0;
      const fx = sx - x0;
      const fy = sy - y0;
      const a = (y0 * sw + x0) * 4;
      const b = (y0 * sw + x1) * 4;
      const c = (y1 * sw + x0) * 4;
      const e = (y1 * sw + x1) * 4;
      for (let k = 0; k < 4; k++) {
        const top = src[a + k] + (src[b + k] - src[a + k]) * fx;
        const bot = src[c + k] + (src[e + k] - src[c + k]) * fx;
        out[o++] = top + (bot - top) * fy;
      }
    }
  }
  const crop: RgbaImage = { data: out, width: w, height: h };
  return h / w >= 1.5 ? rotate90ccw(crop) : crop;
}
