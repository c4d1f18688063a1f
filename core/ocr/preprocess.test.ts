import { describe, expect, it } from 'vitest';
import { detInputSize, detTensor, lineBatchTensor, normalizeToNchw, recBatchWidth, type LinePreprocess } from './preprocess';
import type { RgbaImage } from './types';

const solid = (width: number, height: number, rgba: [number, number, number, number]): RgbaImage => {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set(rgba, i * 4);
  return { data, width, height };
};

const REC: LinePreprocess = { kind: 'rec', channels: 'BGR', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], height: 48, maxWidth: 3200 };

describe('detInputSize', () => {
  it('shrinks the longest side to maxSide and rounds each side to a multiple of 32', () => {
    expect(detInputSize(1280, 720, 960)).toEqual({ width: 960, height: 544 });
    expect(detInputSize(720, 1280, 960)).toEqual({ width: 544, height: 960 });
    expect(detInputSize(4000, 3000, 640)).toEqual({ width: 640, height: 480 });
  });
  it('never enlarges, but rounds to the nearest multiple with a floor of one multiple', () => {
    expect(detInputSize(640, 288, 960)).toEqual({ width: 640, height: 288 });
    expect(detInputSize(100, 20, 960)).toEqual({ width: 96, height: 32 });
    expect(detInputSize(10, 10, 960)).toEqual({ width: 32, height: 32 });
    expect(detInputSize(50, 50, 960)).toEqual({ width: 64, height: 64 });
  });
});

describe('normalisation', () => {
  it('writes planar BGR with (x/255 - mean) / std', () => {
    const t = normalizeToNchw(solid(2, 1, [255, 0, 128, 255]), { channels: 'BGR', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(t.dims).toEqual([1, 3, 1, 2]);
    const expected = [(128 / 255 - 0.485) / 0.229, (0 - 0.456) / 0.224, (1 - 0.406) / 0.225];
    for (let c = 0; c < 3; c++) {
      expect(t.data[c * 2]).toBeCloseTo(expected[c], 5);
      expect(t.data[c * 2 + 1]).toBeCloseTo(expected[c], 5);
    }
  });
  it('keeps RGB order when the manifest says RGB', () => {
    const t = normalizeToNchw(solid(1, 1, [255, 0, 0, 255]), { channels: 'RGB', mean: [0, 0, 0], std: [1, 1, 1] });
    expect(Array.from(t.data)).toEqual([1, 0, 0]);
  });
  it('detTensor resizes to the detector size', () => {
    const r = detTensor(solid(1280, 720, [10, 20, 30, 255]), { kind: 'det', channels: 'BGR', mean: [0, 0, 0], std: [1, 1, 1], maxSide: 960, multiple: 32 });
    expect([r.width, r.height]).toEqual([960, 544]);
    expect(r.tensor.dims).toEqual([1, 3, 544, 960]);
    expect(r.tensor.data[0]).toBeCloseTo(30 / 255, 5);
  });
});

describe('line batches', () => {
  it('resizes each crop to height 48 keeping aspect and pads with 0 to the batch width', () => {
    const white = solid(20, 10, [255, 255, 255, 255]);
    const t = lineBatchTensor([white], REC, 320);
    expect(t.dims).toEqual([1, 3, 48, 320]);
    // 20x10 at height 48 is 96 wide: white maps to (1 - 0.5) / 0.5 = 1, padding stays 0.
    expect(t.data[0]).toBeCloseTo(1, 5);
    expect(t.data[95]).toBeCloseTo(1, 5);
    expect(t.data[96]).toBe(0);
    expect(t.data[319]).toBe(0);
    expect(t.data[2 * 48 * 320 + 47 * 320 + 95]).toBeCloseTo(1, 5);
  });
  it('maps black to -1 and squeezes crops wider than the slot', () => {
    const t = lineBatchTensor([solid(1000, 10, [0, 0, 0, 255])], { ...REC, kind: 'cls', maxWidth: 192 }, 192);
    expect(t.dims).toEqual([1, 3, 48, 192]);
    expect(t.data[191]).toBeCloseTo(-1, 5);
  });
  it('batch width covers the widest crop, at least minWidth, at most maxWidth', () => {
    expect(recBatchWidth([solid(20, 10, [0, 0, 0, 255])], REC, 320)).toBe(320);
    expect(recBatchWidth([solid(20, 10, [0, 0, 0, 255]), solid(100, 10, [0, 0, 0, 255])], REC, 320)).toBe(480);
    expect(recBatchWidth([solid(1000, 10, [0, 0, 0, 255])], REC, 320)).toBe(3200);
  });
});
