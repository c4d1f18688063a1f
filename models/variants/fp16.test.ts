import { describe, expect, it } from 'vitest';
import {
  DT,
  constantNode,
  constantsOf,
  decodeModel,
  encodeModel,
  float16BitsToFloat32,
  float32Tensor,
  float32ToFloat16Bits,
  graphOf,
  intsAttr,
  producersOf,
} from './onnx-graph';
import { convertToFloat16 } from './fp16';
import { modelBytes, pseudoRandom } from './tiny-graphs';
import { maxAbsDiff, openSession, runFirst } from './compare';
import { readOnnxIo } from '../build/onnx-io';

describe('float16 conversion', () => {
  it('rounds to the nearest half, ties to even, with overflow to infinity and underflow to zero', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [65520, 0x7c00],
      [-1e6, 0xfc00],
      [2 ** -24, 0x0001],
      [2 ** -26, 0x0000],
      [6.097555160522461e-5, 0x03ff],
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [Infinity, 0x7c00],
    ];
    for (const [v, bits] of cases) expect(float32ToFloat16Bits(v).toString(16)).toBe(bits.toString(16));
    expect(Number.isNaN(float16BitsToFloat32(Uint16Array.of(float32ToFloat16Bits(NaN)))[0])).toBe(true);
    const back = float16BitsToFloat32(Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001));
    expect(Array.from(back)).toEqual([1, -2, 65504, 2 ** -24]);
  });

  it('converts weights and compute, keeps float32 I/O and Resize scales, and runs on onnxruntime-node', async () => {
    // x → Conv → Resize(×2, scales must stay float32) → Sigmoid → y
    const source = modelBytes(
      [
        constantNode('w', float32Tensor([3, 2, 3, 3], pseudoRandom(54, 4))),
        { opType: 'Conv', name: 'conv', input: ['x', 'w'], output: ['c'], attribute: [intsAttr('pads', [1, 1, 1, 1])] },
        constantNode('roi', float32Tensor([0], new Float32Array(0))),
        constantNode('scales', float32Tensor([4], Float32Array.of(1, 1, 2, 2))),
        { opType: 'Resize', name: 'up', input: ['c', 'roi', 'scales'], output: ['r'] },
        { opType: 'Sigmoid', name: 'sig', input: ['r'], output: ['y'] },
      ],
      [['x', ['N', 2, 6, 6]]],
      [['y', ['N', 3, 12, 12]]],
      11,
    );
    const { model, report } = convertToFloat16(decodeModel(source));
    const graph = graphOf(model);
    const constants = constantsOf(graph);
    expect(constants.get('w')!.tensor.dataType).toBe(DT.FLOAT16);
    expect(constants.get('scales')!.tensor.dataType).toBe(DT.FLOAT);
    expect(constants.get('roi')!.tensor.dataType).toBe(DT.FLOAT);
    expect(report.castsInserted).toBe(2);
    // The caller still feeds and reads float32 under the same names.
    const bytes = encodeModel(model);
    const io = readOnnxIo(bytes);
    expect(io.inputs.map((t) => [t.name, t.datatype])).toEqual([['x', 'FP32']]);
    expect(io.outputs.map((t) => [t.name, t.datatype])).toEqual([['y', 'FP32']]);
    expect(producersOf(graph).get('y')!.opType).toBe('Cast');
    const x = { data: pseudoRandom(2 * 2 * 36, 8), dims: [2, 2, 6, 6] };
    const a = await runFirst(await openSession(source), x);
    const b = await runFirst(await openSession(bytes), x);
    expect(b.dims).toEqual([2, 3, 12, 12]);
    expect(maxAbsDiff(a.data, b.data)).toBeLessThan(2e-3);
  });
});
