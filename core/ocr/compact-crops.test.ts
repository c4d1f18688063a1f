import { describe, expect, it } from 'vitest';
import { COMPACT_PAD, compactCropBytes, takesCompactCrops, toCompactCrops } from './compact-crops';

const BGR = { channels: 'BGR' as const, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
/** One [1, 3, h, w] tensor of a single colour, normalised as the recogniser's input (BGR planes). */
function solid(rgb: [number, number, number], h: number, w: number) {
  const data = new Float32Array(3 * h * w);
  [rgb[2], rgb[1], rgb[0]].forEach((p, k) => data.fill(p / 127.5 - 1, k * h * w, (k + 1) * h * w));
  return { data, dims: [1, 3, h, w] };
}

describe('compact crops', () => {
  it('are 1.5 bytes per pixel, the width rounded up to even', () => {
    expect(compactCropBytes(1, 48, 160)).toBe(48 * 160 * 1.5);
    expect(compactCropBytes(2, 48, 161)).toBe(2 * 48 * 162 * 1.5);
  });

  it('carry grey as luma with neutral chroma, and pad an odd width with mid-grey', () => {
    const c = toCompactCrops(solid([200, 200, 200], 2, 3), BGR);
    expect(c.luma.dims).toEqual([1, 1, 2, 4]);
    expect(c.chroma.dims).toEqual([1, 2, 1, 2]);
    expect([...c.luma.data]).toEqual([200, 200, 200, COMPACT_PAD, 200, 200, 200, COMPACT_PAD]);
    expect([...c.chroma.data]).toEqual([128, 128, 128, 128]);
  });

  it("read the colour planes in the model's channel order (red lifts Cr, blue lifts Cb)", () => {
    const red = toCompactCrops(solid([255, 0, 0], 2, 2), BGR);
    expect([...red.luma.data]).toEqual([76, 76, 76, 76]);
    expect([...red.chroma.data]).toEqual([85, 255]);
    const blue = toCompactCrops(solid([0, 0, 255], 2, 2), BGR);
    expect([...blue.chroma.data]).toEqual([255, 107]);
  });

  it('are what a recogniser with two 8-bit inputs takes', () => {
    expect(takesCompactCrops({ inputs: [{ datatype: 'UINT8' }, { datatype: 'UINT8' }] })).toBe(true);
    expect(takesCompactCrops({ inputs: [{ datatype: 'FP32' }] })).toBe(false);
  });
});
