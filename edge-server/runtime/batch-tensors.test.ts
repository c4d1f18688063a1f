import { describe, expect, it } from 'vitest';
import { joinBatch, splitBatch } from './batch-tensors';
import type { RuntimeTensor } from './messages';

const t = (dims: number[], values: number[]): RuntimeTensor => ({ datatype: 'FP32', dims, data: Float32Array.from(values) });

describe('joinBatch / splitBatch', () => {
  it('joins equal-size inputs along the first axis and splits outputs back by rows', () => {
    const joined = joinBatch([t([1, 2], [1, 2]), t([2, 2], [3, 4, 5, 6])]);
    expect(joined.dims).toEqual([3, 2]);
    expect([...joined.data]).toEqual([1, 2, 3, 4, 5, 6]);
    const [a, b] = splitBatch({ y: joined }, [1, 2]);
    expect(a.y.dims).toEqual([1, 2]);
    expect([...a.y.data]).toEqual([1, 2]);
    expect([...b.y.data]).toEqual([3, 4, 5, 6]);
    expect(a.y.data.buffer).not.toBe(b.y.data.buffer);
  });

  it('pads narrower parts with zeros on the right of the last axis', () => {
    const joined = joinBatch([t([1, 2, 2], [1, 2, 3, 4]), t([1, 2, 3], [5, 6, 7, 8, 9, 10])], true);
    expect(joined.dims).toEqual([2, 2, 3]);
    expect([...joined.data]).toEqual([1, 2, 0, 3, 4, 0, 5, 6, 7, 8, 9, 10]);
  });

  it('refuses parts that differ elsewhere, and passes a single part through untouched', () => {
    expect(() => joinBatch([t([1, 2], [1, 2]), t([1, 3], [1, 2, 3])])).toThrow(/batch parts differ/);
    const one = t([1, 2], [1, 2]);
    expect(joinBatch([one])).toBe(one);
    expect(splitBatch({ y: one }, [1])[0].y).toBe(one);
  });
});

describe('joinBatch of 8-bit crops', () => {
  it("pads narrower UINT8 parts with mid-grey 128, the byte nearest the float crops' zero", () => {
    const u = (dims: number[], values: number[]): RuntimeTensor => ({ datatype: 'UINT8', dims, data: Uint8Array.from(values) });
    const joined = joinBatch([u([1, 1, 2], [1, 2]), u([1, 1, 3], [3, 4, 5])], true);
    expect([...joined.data]).toEqual([1, 2, 128, 3, 4, 5]);
  });
});
