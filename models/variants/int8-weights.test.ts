import { describe, expect, it } from 'vitest';
import { constantsOf, decodeModel, dimsOf, graphOf, readFloat32, DT } from './onnx-graph';
import { outputChannelAxis, quantizePerChannel, quantizeWeightsInt8 } from './int8-weights';
import { convStackModel, matMulModel, pseudoRandom } from './tiny-graphs';
import { maxAbsDiff, openSession, runFirst } from './compare';

/** The float weight a quantised graph computes: int8 Constant × scale Constant, read back from the graph. */
function dequantized(bytes: Uint8Array, name: string): { values: Float32Array; scaleDims: number[] } {
  const constants = constantsOf(graphOf(decodeModel(bytes)));
  const q = constants.get(`${name}_int8`)!.tensor;
  const s = constants.get(`${name}_scale`)!.tensor;
  expect(q.dataType).toBe(DT.INT8);
  const ints = new Int8Array(q.rawData!.buffer, q.rawData!.byteOffset, q.rawData!.byteLength);
  const scales = readFloat32(s);
  const dims = dimsOf(q);
  const scaleDims = dimsOf(s);
  const axis = scaleDims.findIndex((d, i) => d === dims[i] && d !== 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  return { values: Float32Array.from(ints, (v, i) => v * scales[Math.floor(i / inner) % dims[axis]]), scaleDims };
}

describe('per-channel int8 weights', () => {
  it('takes one symmetric scale per channel along the axis', () => {
    // [2, 3] with axis 1: columns are channels.
    const data = Float32Array.from([1, -0.02, 0, -4, 0.0101, 0]);
    const { values, scales } = quantizePerChannel(data, [2, 3], 1);
    expect(Array.from(scales)).toEqual([4 / 127, 0.02 / 127, 1].map(Math.fround));
    expect(Array.from(values)).toEqual([32, -127, 0, -127, 64, 0]);
  });

  it('knows where each op keeps its output channels', () => {
    expect(outputChannelAxis('Conv', 4)).toBe(0);
    expect(outputChannelAxis('ConvTranspose', 4)).toBe(1);
    expect(outputChannelAxis('MatMul', 2)).toBe(1);
    expect(outputChannelAxis('MatMul', 3)).toBe(2);
  });

  it('rewrites Conv and ConvTranspose weights with scales on their output-channel axes', async () => {
    const source = convStackModel();
    const { model, report } = quantizeWeightsInt8(decodeModel(source));
    const { encodeModel } = await import('./onnx-graph');
    const bytes = encodeModel(model);
    expect(report.tensors).toBe(2);
    const original = constantsOf(graphOf(decodeModel(source)));
    for (const [name, scaleDims] of [
      ['w', [6, 1, 1, 1]],
      ['t', [1, 2, 1, 1]],
    ] as const) {
      const deq = dequantized(bytes, name);
      expect(deq.scaleDims).toEqual(scaleDims);
      const ref = readFloat32(original.get(name)!.tensor);
      // Every element, including those of the 100× smaller channels, within half a step of its own channel.
      const q = quantizePerChannel(ref, dimsOf(original.get(name)!.tensor), name === 'w' ? 0 : 1);
      ref.forEach((v, i) => {
        const step = q.scales[name === 'w' ? Math.floor(i / 36) : Math.floor(i / 4) % 2];
        expect(Math.abs(deq.values[i] - v)).toBeLessThanOrEqual(step / 2 + 1e-9);
      });
    }
    const x = { data: pseudoRandom(2 * 4 * 8 * 8, 21), dims: [2, 4, 8, 8] };
    const [a, b] = await Promise.all([openSession(source), openSession(bytes)]);
    const ya = (await runFirst(a, x)).data,
      yb = (await runFirst(b, x)).data;
    const range = Math.max(...ya.map(Math.abs));
    expect(maxAbsDiff(ya, yb) / range).toBeLessThan(0.01);
  });

  it('scales MatMul weights per output column, and keeps listed tensors in float', async () => {
    const { encodeModel } = await import('./onnx-graph');
    const bytes = encodeModel(quantizeWeightsInt8(decodeModel(matMulModel(9))).model);
    const deq = dequantized(bytes, 'w');
    expect(deq.scaleDims).toEqual([1, 3]);
    const ref = readFloat32(constantsOf(graphOf(decodeModel(matMulModel(9)))).get('w')!.tensor);
    // Column 1 is 1000× smaller than column 0; per-column scales keep its relative error at int8 level.
    for (let k = 0; k < 5; k++) expect(Math.abs(deq.values[k * 3 + 1] - ref[k * 3 + 1])).toBeLessThan(0.001 / 127);
    const kept = quantizeWeightsInt8(decodeModel(matMulModel(9)), { keep: ['w'] });
    expect(kept.report.tensors).toBe(0);
    expect(constantsOf(graphOf(kept.model)).get('w')!.tensor.dataType).toBe(DT.FLOAT);
  });
});
