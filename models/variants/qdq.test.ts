import { describe, expect, it } from 'vitest';
import { DT, attrInt, constantsOf, decodeModel, dimsOf, encodeModel, graphOf, readFloat32, producersOf } from './onnx-graph';
import { activationRanges } from './activation-ranges';
import { activationsToCalibrate, quantizeStatic, uint8Params } from './qdq';
import { convStackModel, matMulModel, pseudoRandom } from './tiny-graphs';
import { maxAbsDiff, openSession, runFirst } from './compare';

/**
 * What these numeric checks compare on onnxruntime is the rewrite, not the CPU's integer kernel: x86 without VNNI
 * saturates 8-bit weight products in pairs (QdqOptions.weightLevels), which on these random tiny graphs moved a Conv
 * stack's output by 0.12 of its range and a MatMul's by 0.17. 7-bit weights never saturate.
 */
const NO_SATURATION = { weightLevels: 63 };

describe('static QDQ int8', () => {
  it('takes uint8 parameters that always represent zero exactly', () => {
    expect(uint8Params({ min: -1, max: 3, absPercentile: 3 })).toEqual({ scale: 4 / 255, zeroPoint: 64 });
    expect(uint8Params({ min: 0.5, max: 2, absPercentile: 2 })).toEqual({ scale: 2 / 255, zeroPoint: 0 });
    expect(uint8Params({ min: 0, max: 0, absPercentile: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('quantises Conv with per-channel int8 weights, int32 bias and uint8 activations, and stays close on onnxruntime', async () => {
    const source = decodeModel(convStackModel(13));
    const feeds = [0, 1, 2].map((s) => ({ data: pseudoRandom(4 * 64, 30 + s), dims: [1, 4, 8, 8] }));
    const tensors = activationsToCalibrate(source, { ops: ['Conv'] });
    expect(tensors).toEqual(['x', 'c']);
    const ranges = await activationRanges(source, feeds, { tensors });
    const { model, report } = quantizeStatic(source, ranges, { ops: ['Conv'], ...NO_SATURATION });
    expect(report).toEqual({ nodes: 1, activations: 2 });
    const graph = graphOf(model);
    const producers = producersOf(graph);
    const constants = constantsOf(graph);
    const conv = graph.node.find((n) => n.opType === 'Conv')!;
    const [xIn, wIn, bIn] = conv.input!.map((n) => producers.get(n)!);
    expect([xIn, wIn, bIn].map((n) => n.opType)).toEqual(['DequantizeLinear', 'DequantizeLinear', 'DequantizeLinear']);
    // Weight: int8 [6,4,3,3], 6 scales on axis 0; bias: int32 with scale = input scale × weight scale.
    const w = constants.get(wIn.input![0])!.tensor;
    expect([w.dataType, dimsOf(w)]).toEqual([DT.INT8, [6, 4, 3, 3]]);
    expect(attrInt(wIn, 'axis', -1)).toBe(0);
    const wScales = readFloat32(constants.get(wIn.input![1])!.tensor);
    const xScale = readFloat32(constants.get(xIn.input![1])!.tensor)[0];
    const bScales = readFloat32(constants.get(bIn.input![1])!.tensor);
    expect(constants.get(bIn.input![0])!.tensor.dataType).toBe(DT.INT32);
    bScales.forEach((s, c) => expect(s).toBe(Math.fround(xScale * wScales[c])));
    // The Conv's only reader is its output's QuantizeLinear (what the integer-kernel fusion needs).
    const readers = graph.node.filter((n) => n.input!.includes(conv.output![0]));
    expect(readers.map((n) => n.opType)).toEqual(['QuantizeLinear']);
    const a = await runFirst(await openSession(convStackModel(13)), feeds[0]);
    const b = await runFirst(await openSession(encodeModel(model)), feeds[0]);
    expect(maxAbsDiff(a.data, b.data) / Math.max(...a.data.map(Math.abs))).toBeLessThan(0.03);
  });

  it('quantises MatMul weights per output column', async () => {
    const source = decodeModel(matMulModel(13));
    const feeds = [{ data: pseudoRandom(10, 4), dims: [2, 5] }];
    const ranges = await activationRanges(source, feeds, { tensors: activationsToCalibrate(source) });
    const { model } = quantizeStatic(source, ranges, NO_SATURATION);
    const graph = graphOf(model);
    const mm = graph.node.find((n) => n.opType === 'MatMul')!;
    const dq = producersOf(graph).get(mm.input![1])!;
    expect(attrInt(dq, 'axis', -1)).toBe(1);
    expect(dimsOf(constantsOf(graph).get(dq.input![1])!.tensor)).toEqual([3]);
    const a = await runFirst(await openSession(matMulModel(13)), feeds[0]);
    const b = await runFirst(await openSession(encodeModel(model)), feeds[0]);
    expect(maxAbsDiff(a.data, b.data)).toBeLessThan(0.05);
  });

  it('needs opset 13', async () => {
    const ranges = new Map();
    expect(() => quantizeStatic(decodeModel(convStackModel(11)), ranges)).toThrow(/opset 13/);
  });
});
