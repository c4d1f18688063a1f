import { describe, expect, it } from 'vitest';
import { constantNode, int64Tensor, decodeModel, encodeModel, float32Tensor, floatAttr, graphOf, intAttr, intsAttr, opsetOf } from './onnx-graph';
import { upgradeToOpset13 } from './opset13';
import { modelBytes, pseudoRandom } from './tiny-graphs';
import { maxAbsDiff, openSession, runFirst } from './compare';

describe('opset 9 → 13', () => {
  it('rewrites Clip, Slice, Squeeze and Softmax so every output stays the same', async () => {
    // x [2,3,4] → Clip(-0.5, 0.5) → Slice(axis 2, 1:3) → Softmax(axis 1) → Slice(axis 0, 0:1) → Squeeze(0) → y [3,2]
    // Softmax(axis 1) on a 3-D tensor normalises over 3×2 values in opset 9 but over 3 in opset 13.
    const source = modelBytes(
      [
        { opType: 'Clip', name: 'clip', input: ['x'], output: ['c'], attribute: [floatAttr('min', -0.5), floatAttr('max', 0.5)] },
        { opType: 'Slice', name: 's1', input: ['c'], output: ['s'], attribute: [intsAttr('starts', [1]), intsAttr('ends', [3]), intsAttr('axes', [2])] },
        { opType: 'Softmax', name: 'sm', input: ['s'], output: ['p'], attribute: [intAttr('axis', 1)] },
        constantNode('unused', float32Tensor([1], Float32Array.of(0))),
        { opType: 'Slice', name: 's2', input: ['p'], output: ['q'], attribute: [intsAttr('starts', [0]), intsAttr('ends', [1e9]), intsAttr('axes', [0])] },
        { opType: 'Slice', name: 's3', input: ['q'], output: ['r'], attribute: [intsAttr('starts', [0]), intsAttr('ends', [1])] },
        { opType: 'Squeeze', name: 'sq', input: ['r'], output: ['y'], attribute: [intsAttr('axes', [0])] },
      ],
      [['x', [2, 3, 4]]],
      [['y', [3, 2]]],
      9,
    );
    const { model, report } = upgradeToOpset13(decodeModel(source));
    expect(opsetOf(model)).toBe(13);
    expect(report).toEqual({ from: 9, rewritten: { Clip: 1, Slice: 3, Softmax: 1, Squeeze: 1 } });
    expect(graphOf(model).node.every((n) => !(n.attribute ?? []).some((a) => ['min', 'max', 'starts', 'ends', 'axes'].includes(a.name ?? '')))).toBe(true);
    const x = { data: pseudoRandom(24, 2).map((v) => v * 2), dims: [2, 3, 4] };
    const before = await runFirst(await openSession(source, 'disabled'), x);
    const after = await runFirst(await openSession(encodeModel(model), 'disabled'), x);
    expect(after.dims).toEqual(before.dims);
    expect(maxAbsDiff(before.data, after.data)).toBeLessThan(1e-7);
  });

  it('keeps "to the end" sentinels at the int64 limit', () => {
    const t = int64Tensor([2], [2 ** 63, -(2 ** 63)]);
    const v = new BigInt64Array(t.rawData!.slice().buffer);
    expect([...v]).toEqual([2n ** 63n - 1n, -(2n ** 63n)]);
  });

  it('refuses ops it has not been checked for', () => {
    const source = modelBytes([{ opType: 'Upsample', name: 'u', input: ['x', 'x'], output: ['y'] }], [['x', [1]]], [['y', [1]]], 9);
    expect(() => upgradeToOpset13(decodeModel(source))).toThrow(/cannot raise Upsample/);
  });
});
