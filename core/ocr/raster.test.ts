import { describe, expect, it } from 'vitest';
import { assertRgba, resizeBilinear, rotate180, rotate90ccw } from './raster';
import type { RgbaImage } from './types';

const gray = (width: number, height: number, values: number[]): RgbaImage => ({
  data: Uint8ClampedArray.from(values.flatMap((v) => [v, v, v, 255])),
  width,
  height,
});
const plane = (img: RgbaImage) => Array.from({ length: img.width * img.height }, (_, i) => img.data[i * 4]);

describe('raster', () => {
  it('bilinear downscale by two averages 2x2 blocks (half-pixel centres)', () => {
    const src = gray(4, 2, [0, 100, 200, 200, 100, 200, 0, 0]);
    expect(plane(resizeBilinear(src, 2, 1))).toEqual([100, 100]);
  });
  it('bilinear upscale interpolates between pixel centres and clamps at the edges', () => {
    expect(plane(resizeBilinear(gray(2, 1, [0, 100]), 4, 1))).toEqual([0, 25, 75, 100]);
  });
  it('turns images a half and a quarter', () => {
    const src = gray(3, 2, [1, 2, 3, 4, 5, 6]);
    expect(plane(rotate180(src))).toEqual([6, 5, 4, 3, 2, 1]);
    const q = rotate90ccw(src);
    expect([q.width, q.height]).toEqual([2, 3]);
    expect(plane(q)).toEqual([3, 6, 2, 5, 1, 4]);
  });
  it('rejects images whose data does not match their size, with a code', () => {
    expect(() => assertRgba({ data: new Uint8Array(10), width: 2, height: 2 })).toThrowError(expect.objectContaining({ name: 'OcrBadImage' }));
    expect(() => assertRgba({ data: new Uint8Array(0), width: 0, height: 2 })).toThrowError(/positive integer/);
  });
});
