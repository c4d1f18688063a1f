import { describe, expect, it } from 'vitest';
import { convexHull, insideConvex, minAreaRect, miniBox, orderClockwise, polygonArea, polygonPerimeter } from './geometry';
import type { Point } from './types';

const rotate = ([x, y]: Point, deg: number, [cx, cy]: Point = [0, 0]): Point => {
  const a = (deg * Math.PI) / 180;
  return [cx + (x - cx) * Math.cos(a) - (y - cy) * Math.sin(a), cy + (x - cx) * Math.sin(a) + (y - cy) * Math.cos(a)];
};

describe('geometry', () => {
  it('hull drops interior and collinear points', () => {
    const hull = convexHull([
      [0, 0],
      [2, 0],
      [4, 0],
      [4, 4],
      [0, 4],
      [2, 2],
      [1, 3],
    ]);
    expect(hull).toHaveLength(4);
    expect(polygonArea(hull)).toBe(16);
  });
  it('min-area rectangle of a rotated rectangle is that rectangle', () => {
    const rect: Point[] = [
      [0, 0],
      [40, 0],
      [40, 10],
      [0, 10],
    ].map((p) => rotate(p as Point, 30, [20, 5]));
    const cloud = [...rect, rotate([20, 5], 30, [20, 5]), rotate([10, 2], 30, [20, 5])];
    const r = minAreaRect(cloud);
    expect(Math.max(r.width, r.height)).toBeCloseTo(40, 6);
    expect(Math.min(r.width, r.height)).toBeCloseTo(10, 6);
    expect(polygonArea(r.corners)).toBeCloseTo(400, 6);
  });
  it('miniBox orders corners top-left, top-right, bottom-right, bottom-left and reports the short side', () => {
    const { box, shortSide } = miniBox([
      [10, 20],
      [50, 20],
      [50, 30],
      [10, 30],
      [30, 25],
    ]);
    expect(box).toEqual([
      [10, 20],
      [50, 20],
      [50, 30],
      [10, 30],
    ]);
    expect(shortSide).toBeCloseTo(10);
  });
  it('measures polygons and orders corners clockwise', () => {
    const sq: Point[] = [
      [0, 0],
      [3, 0],
      [3, 4],
      [0, 4],
    ];
    expect(polygonArea(sq)).toBe(12);
    expect(polygonPerimeter(sq)).toBe(14);
    expect(
      orderClockwise([
        [3, 4],
        [0, 0],
        [0, 4],
        [3, 0],
      ]),
    ).toEqual(sq);
  });
  it('inside test includes the boundary', () => {
    const sq: Point[] = [
      [0, 0],
      [3, 0],
      [3, 4],
      [0, 4],
    ];
    expect(insideConvex(sq, 1, 1)).toBe(true);
    expect(insideConvex(sq, 3, 2)).toBe(true);
    expect(insideConvex(sq, 3.5, 2)).toBe(false);
    expect(insideConvex(sq.slice().reverse(), 1, 1)).toBe(true);
  });
});
