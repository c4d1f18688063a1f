import { describe, expect, it } from 'vitest';
import { constantNode, decodeModel, encodeModel, float32Tensor, floatAttr, graphOf, intsAttr } from './onnx-graph';
import { foldBatchNorm } from './fold-batchnorm';
import { modelBytes, pseudoRandom } from './tiny-graphs';
import { maxAbsDiff, openSession, runFirst } from './compare';

describe('BatchNormalization folding', () => {
  it('folds a Conv → BN pair into one Conv with the same output', async () => {
    const positive = (n: number, seed: number) => pseudoRandom(n, seed).map((v) => 0.5 + Math.abs(v));
    const source = modelBytes(
      [
        constantNode('w', float32Tensor([3, 2, 3, 3], pseudoRandom(54, 1))),
        { opType: 'Conv', name: 'conv', input: ['x', 'w'], output: ['c'], attribute: [intsAttr('pads', [1, 1, 1, 1])] },
        constantNode('gamma', float32Tensor([3], positive(3, 2))),
        constantNode('beta', float32Tensor([3], pseudoRandom(3, 3))),
        constantNode('mean', float32Tensor([3], pseudoRandom(3, 4))),
        constantNode('var', float32Tensor([3], positive(3, 5))),
        { opType: 'BatchNormalization', name: 'bn', input: ['c', 'gamma', 'beta', 'mean', 'var'], output: ['y'], attribute: [floatAttr('epsilon', 1e-3)] },
      ],
      [['x', [1, 2, 5, 5]]],
      [['y', [1, 3, 5, 5]]],
      9,
    );
    const { model, folded } = foldBatchNorm(decodeModel(source));
    expect(folded).toBe(1);
    expect(graphOf(model).node.map((n) => n.opType)).toEqual(['Constant', 'Constant', 'Conv']);
    const x = { data: pseudoRandom(50, 9), dims: [1, 2, 5, 5] };
    const a = await runFirst(await openSession(source, 'disabled'), x);
    const b = await runFirst(await openSession(encodeModel(model), 'disabled'), x);
    expect(maxAbsDiff(a.data, b.data)).toBeLessThan(1e-5);
  });
});
