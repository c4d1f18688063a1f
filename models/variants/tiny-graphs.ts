/** Small hand-built ONNX graphs in the exporters' style (weights in Constant nodes), for the variant tools' tests. */
import { DT, constantNode, encodeModel, float32Tensor, intAttr, intsAttr, valueInfo, type NodeProto } from './onnx-graph';

/** Deterministic pseudo-random values in [-1, 1) (LCG), scaled per output channel when `channelScale` is given. */
export function pseudoRandom(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function modelBytes(nodes: NodeProto[], inputs: [string, (number | string)[]][], outputs: [string, (number | string)[]][], opset = 11): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'tiny',
      node: nodes,
      input: inputs.map(([n, s]) => valueInfo(n, DT.FLOAT, s)),
      output: outputs.map(([n, s]) => valueInfo(n, DT.FLOAT, s)),
    },
  });
}

/** Multiplies channel c of a [C, ...] (axis 0) or [.., C, ..] tensor by `gains[c]`, to give channels different ranges. */
export function scaleChannels(data: Float32Array, dims: number[], axis: number, gains: number[]): Float32Array {
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  return data.map((v, i) => v * gains[Math.floor(i / inner) % dims[axis]]);
}

/**
 * x [N,4,8,8] → Conv(4→6, 3×3, bias) → Relu → ConvTranspose(6→2, 2×2 stride 2) → y [N,2,16,16].
 * Output channels of both weights differ in range by 100×, so one scale per tensor would lose the small ones.
 */
export function convStackModel(opset = 11): Uint8Array {
  const wDims = [6, 4, 3, 3];
  const w = scaleChannels(pseudoRandom(6 * 4 * 9, 7), wDims, 0, [1, 0.01, 0.5, 0.02, 2, 0.1]);
  const tDims = [6, 2, 2, 2];
  const t = scaleChannels(pseudoRandom(6 * 2 * 4, 11), tDims, 1, [1, 0.01]);
  return modelBytes(
    [
      constantNode('w', float32Tensor(wDims, w)),
      constantNode('b', float32Tensor([6], pseudoRandom(6, 3))),
      { opType: 'Conv', name: 'conv', input: ['x', 'w', 'b'], output: ['c'], attribute: [intsAttr('pads', [1, 1, 1, 1]), intsAttr('kernel_shape', [3, 3])] },
      { opType: 'Relu', name: 'relu', input: ['c'], output: ['r'] },
      constantNode('t', float32Tensor(tDims, t)),
      {
        opType: 'ConvTranspose',
        name: 'deconv',
        input: ['r', 't'],
        output: ['y'],
        attribute: [intsAttr('strides', [2, 2]), intsAttr('kernel_shape', [2, 2]), intAttr('group', 1)],
      },
    ],
    [['x', ['N', 4, 8, 8]]],
    [['y', ['N', 2, 16, 16]]],
    opset,
  );
}

/** x [N,5] → MatMul(W [5,3]) → Add → y [N,3]; W's columns differ in range by 1000×. */
export function matMulModel(opset = 11): Uint8Array {
  const w = scaleChannels(pseudoRandom(15, 5), [5, 3], 1, [1, 0.001, 0.3]);
  return modelBytes(
    [
      constantNode('w', float32Tensor([5, 3], w)),
      constantNode('bias', float32Tensor([3], pseudoRandom(3, 9))),
      { opType: 'MatMul', name: 'mm', input: ['x', 'w'], output: ['m'] },
      { opType: 'Add', name: 'add', input: ['m', 'bias'], output: ['y'] },
    ],
    [['x', ['N', 5]]],
    [['y', ['N', 3]]],
    opset,
  );
}
