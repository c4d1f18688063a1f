import { describe, expect, it } from 'vitest';
import { boxScore, dbPostprocess, DEFAULT_DB_PARAMS, sortBoxes } from './db-postprocess';
import { unclip } from './unclip';
import { minAreaRect, polygonArea, type Quad } from './geometry';

/** A prob map with filled rectangles [x0, y0, x1, y1] (inclusive) at probability p. */
function probMap(width: number, height: number, rects: [number, number, number, number, number][]) {
  const data = new Float32Array(width * height).fill(0.02);
  for (const [x0, y0, x1, y1, p] of rects) for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[y * width + x] = p;
  return { data, width, height };
}

describe('DB post-processing', () => {
  it('finds a drawn rectangle, grows it by the unclip distance and scales to the original image', () => {
    // Kernel spans pixel centres 20..59 x 10..17: a 39 x 7 rectangle.
    const prob = probMap(96, 32, [[20, 10, 59, 17, 0.9]]);
    const boxes = dbPostprocess(prob, { width: 192, height: 64 });
    expect(boxes).toHaveLength(1);
    expect(boxes[0].score).toBeCloseTo(0.9, 5);
    // Unclip distance = 39*7*1.5/(2*(39+7)) ≈ 4.45 px each side → ≈ 47.9 x 15.9 at prob scale, ×2 on the way out.
    const [tl, tr, br, bl] = boxes[0].box;
    expect(tl[0]).toBeGreaterThanOrEqual(29);
    expect(tl[0]).toBeLessThanOrEqual(33);
    expect(tl[1]).toBeGreaterThanOrEqual(10);
    expect(tl[1]).toBeLessThanOrEqual(13);
    expect(br[0]).toBeGreaterThanOrEqual(125);
    expect(br[0]).toBeLessThanOrEqual(129);
    expect(br[1]).toBeGreaterThanOrEqual(42);
    expect(br[1]).toBeLessThanOrEqual(45);
    expect(tr[1]).toBe(tl[1]);
    expect(bl[0]).toBe(tl[0]);
  });
  it('drops weak, tiny and out-of-threshold regions', () => {
    const prob = probMap(64, 32, [
      [2, 2, 30, 8, 0.5], // above thresh 0.3 but mean 0.5 < box_thresh 0.6
      [40, 2, 41, 20, 0.95], // 2 px wide: short side 1 < min_size 3
      [2, 20, 30, 27, 0.25], // never binarised
    ]);
    expect(dbPostprocess(prob, { width: 64, height: 32 })).toEqual([]);
  });
  it('keeps two lines apart and returns them in reading order', () => {
    const prob = probMap(128, 64, [
      [70, 40, 120, 47, 0.8],
      [5, 10, 60, 17, 0.8],
      [70, 11, 120, 18, 0.8],
    ]);
    const boxes = dbPostprocess(prob, { width: 128, height: 64 }, DEFAULT_DB_PARAMS);
    expect(boxes).toHaveLength(3);
    expect(boxes.map((b) => b.box[0][0] < 64)).toEqual([true, false, false]);
    expect(boxes[2].box[0][1]).toBeGreaterThan(30);
  });
  it('scores a box by the mean probability of the pixels it covers', () => {
    const prob = probMap(10, 10, [[0, 0, 4, 9, 1]]);
    expect(
      boxScore(prob, [
        [0, 0],
        [9, 0],
        [9, 9],
        [0, 9],
      ]),
    ).toBeCloseTo(0.5 + 0.5 * 0.02, 5);
    expect(
      boxScore(prob, [
        [0, 0],
        [4, 0],
        [4, 9],
        [0, 9],
      ]),
    ).toBeCloseTo(1, 5);
  });
});

describe('unclip', () => {
  it('grows a rectangle by area * ratio / perimeter on every side', () => {
    const grown = unclip(
      [
        [0, 0],
        [100, 0],
        [100, 10],
        [0, 10],
      ],
      1.5,
    )!;
    const d = (1000 * 1.5) / 220;
    const r = minAreaRect(grown);
    expect(r.width).toBeCloseTo(100 + 2 * d, 0);
    expect(r.height).toBeCloseTo(10 + 2 * d, 0);
    // Round joins cut the corners (offset vertices are whole pixels, as with pyclipper).
    const full = (100 + 2 * Math.ceil(d)) * (10 + 2 * Math.ceil(d));
    expect(polygonArea(grown)).toBeLessThan(full - 20);
    expect(polygonArea(grown)).toBeGreaterThan(100 * 10 + 2 * d * 110);
  });
  it('gives null for a collapsed polygon', () => {
    expect(
      unclip(
        [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, 0],
        ],
        1.5,
      ),
    ).toBeNull();
  });
});

describe('sortBoxes', () => {
  const q = (x: number, y: number): { box: Quad } => ({
    box: [
      [x, y],
      [x + 10, y],
      [x + 10, y + 5],
      [x, y + 5],
    ],
  });
  it('sorts top-to-bottom, and left-to-right within 10 px of the same height', () => {
    const sorted = sortBoxes([q(50, 102), q(0, 200), q(10, 105), q(80, 100), q(0, 0)]);
    expect(sorted.map((b) => b.box[0])).toEqual([
      [0, 0],
      [10, 105],
      [50, 102],
      [80, 100],
      [0, 200],
    ]);
  });
});
