/**
 * 8-connected foreground regions of a binary map, found run by run. Each region is reported by the end pixels
 * of its horizontal runs: they contain every hull vertex, which is all the box fitting needs. Holes are not
 * regions of their own (OpenCV's RETR_LIST also lists hole contours; their boxes lie inside the outer one).
 */
import type { Point } from './types';

export interface Region {
  /** First and last pixel of every run, as pixel-centre coordinates. */
  points: Point[];
  /** Foreground pixel count. */
  area: number;
  /** Top-most, then left-most pixel: gives regions a stable raster order. */
  first: number;
}

export function findRegions(bitmap: Uint8Array, width: number, height: number): Region[] {
  const runY: number[] = [];
  const runX0: number[] = [];
  const runX1: number[] = [];
  const parent: number[] = [];
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };

  let prevStart = 0;
  let prevEnd = 0;
  for (let y = 0; y < height; y++) {
    const rowStart = runY.length;
    const row = y * width;
    let x = 0;
    while (x < width) {
      if (!bitmap[row + x]) {
        x++;
        continue;
      }
      const x0 = x;
      while (x < width && bitmap[row + x]) x++;
      const x1 = x - 1;
      const id = runY.length;
      runY.push(y);
      runX0.push(x0);
      runX1.push(x1);
      parent.push(id);
      // Runs on the previous row touch this one when their spans overlap after growing by one pixel (diagonals).
      for (let j = prevStart; j < prevEnd; j++) {
        if (runX1[j] < x0 - 1) continue;
        if (runX0[j] > x1 + 1) break;
        union(id, j);
      }
    }
    prevStart = rowStart;
    prevEnd = runY.length;
  }

  const byRoot = new Map<number, Region>();
  for (let i = 0; i < runY.length; i++) {
    const r = find(i);
    let region = byRoot.get(r);
    if (!region) {
      region = { points: [], area: 0, first: runY[r] * width + runX0[r] };
      byRoot.set(r, region);
    }
    region.points.push([runX0[i], runY[i]]);
    if (runX1[i] !== runX0[i]) region.points.push([runX1[i], runY[i]]);
    region.area += runX1[i] - runX0[i] + 1;
  }
  return [...byRoot.values()].sort((a, b) => a.first - b.first);
}
