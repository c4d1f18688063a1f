/** Plane geometry for text boxes: convex hull, minimum-area rectangle, polygon measures, corner ordering. */
import type { Point } from './types';

export type Quad = [Point, Point, Point, Point];

const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

/** Andrew's monotone chain; counter-clockwise in y-up terms, collinear points dropped. */
export function convexHull(points: Point[]): Point[] {
  const pts = points.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length <= 2) return pts;
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

export interface RotatedRect {
  corners: Quad;
  /** Side lengths; `width` runs along the first corner pair. */
  width: number;
  height: number;
}

/** Smallest-area enclosing rectangle: one side lies on a hull edge (rotating calipers). */
export function minAreaRect(points: Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0)
    return {
      corners: [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ],
      width: 0,
      height: 0,
    };
  if (hull.length === 1) {
    const p = hull[0];
    return { corners: [[...p], [...p], [...p], [...p]] as Quad, width: 0, height: 0 };
  }
  let best: { area: number; ux: number; uy: number; minU: number; maxU: number; minV: number; maxV: number } | null = null;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i];
    const b = hull[(i + 1) % hull.length];
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len === 0) continue;
    const ux = (b[0] - a[0]) / len;
    const uy = (b[1] - a[1]) / len;
    let minU = Infinity,
      maxU = -Infinity,
      minV = Infinity,
      maxV = -Infinity;
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (!best || area < best.area - 1e-9) best = { area, ux, uy, minU, maxU, minV, maxV };
  }
  const { ux, uy, minU, maxU, minV, maxV } = best!;
  const at = (u: number, v: number): Point => [u * ux - v * uy, u * uy + v * ux];
  return {
    corners: [at(minU, minV), at(maxU, minV), at(maxU, maxV), at(minU, maxV)],
    width: maxU - minU,
    height: maxV - minV,
  };
}

/**
 * PaddleOCR's get_mini_boxes: min-area rectangle of the points, corners ordered top-left, top-right,
 * bottom-right, bottom-left (by x, then y within each pair), plus its shorter side.
 */
export function miniBox(points: Point[]): { box: Quad; shortSide: number } {
  const rect = minAreaRect(points);
  const p = rect.corners.slice().sort((a, b) => a[0] - b[0]);
  const [i1, i4] = p[1][1] > p[0][1] ? [0, 1] : [1, 0];
  const [i2, i3] = p[3][1] > p[2][1] ? [2, 3] : [3, 2];
  return { box: [p[i1], p[i2], p[i3], p[i4]], shortSide: Math.min(rect.width, rect.height) };
}

/** Absolute shoelace area. */
export function polygonArea(poly: Point[]): number {
  let s = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i];
    const b = poly[(i + 1) % poly.length];
    s += a[0] * b[1] - b[0] * a[1];
  }
  return Math.abs(s) / 2;
}

export function polygonPerimeter(poly: Point[]): number {
  let s = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i];
    const b = poly[(i + 1) % poly.length];
    s += Math.hypot(b[0] - a[0], b[1] - a[1]);
  }
  return s;
}

/**
 * PaddleOCR's order_points_clockwise: top-left has the smallest x+y, bottom-right the largest;
 * of the other two, top-right has the smallest y-x.
 */
export function orderClockwise(pts: Quad): Quad {
  const sums = pts.map((p) => p[0] + p[1]);
  const iMin = sums.indexOf(Math.min(...sums));
  let iMax = sums.lastIndexOf(Math.max(...sums));
  if (iMax === iMin) iMax = iMin === 0 ? 1 : 0;
  const rest = pts.filter((_, i) => i !== iMin && i !== iMax);
  const [tr, bl] = rest[0][1] - rest[0][0] <= rest[1][1] - rest[1][0] ? [rest[0], rest[1]] : [rest[1], rest[0]];
  return [pts[iMin], tr, pts[iMax], bl];
}

/** Inside test for a convex polygon in either winding, boundary included (within `eps`). */
export function insideConvex(poly: Point[], x: number, y: number, eps = 1e-6): boolean {
  let sign = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i];
    const b = poly[(i + 1) % poly.length];
    const c = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
    if (Math.abs(c) <= eps * Math.max(1, Math.hypot(b[0] - a[0], b[1] - a[1]))) continue;
    const s = c > 0 ? 1 : -1;
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}
