/**
 * Weight-only int8: each Conv/ConvTranspose/MatMul weight held in a Constant node becomes an int8 Constant plus a
 * per-output-channel scale, joined by Cast(int8→float) and Mul under the original tensor name.
 *
 * Why this form and not DequantizeLinear: DequantizeLinear does not exist before opset 10 (rec and cls are opset 9),
 * needs opset 13 for per-axis scales, and onnxruntime keeps it out of constant folding, so it costs time on every run.
 * Cast+Mul is valid in every opset and is folded back to float weights when the session loads: the file shrinks,
 * inference speed and memory stay those of fp32. One scale per tensor is not enough for the recogniser.
 */
import {
  DT,
  cloneModel,
  constantNode,
  constantValue,
  constantsOf,
  consumersOf,
  dimsOf,
  elementCount,
  float32Tensor,
  graphOf,
  int8Tensor,
  intAttr,
  nameAllocator,
  readFloat32,
  type ModelProto,
  type NodeProto,
} from './onnx-graph';

/**
 * The weight axis that indexes output channels:
 * Conv [Cout, Cin/g, kh, kw] → 0; ConvTranspose [Cin, Cout/g, kh, kw] → 1; MatMul [.., K, N] (x·W) → last.
 * For a grouped ConvTranspose axis 1 is the channel within a group, so groups share a scale.
 */
export function outputChannelAxis(opType: string, rank: number): number {
  switch (opType) {
    case 'Conv':
      return 0;
    case 'ConvTranspose':
      return 1;
    case 'MatMul':
      return rank - 1;
    default:
      throw new Error(`no weight layout known for ${opType}`);
  }
}

export interface PerChannelInt8 {
  values: Int8Array;
  /** One symmetric scale per channel along `axis` (value ≈ q × scale). */
  scales: Float32Array;
}

/** Symmetric per-channel quantisation to [-levels, levels] (at most 127); an all-zero channel gets scale 1. */
export function quantizePerChannel(data: Float32Array, dims: number[], axis: number, levels = 127): PerChannelInt8 {
  const channels = dims[axis];
  const inner = elementCount(dims.slice(axis + 1));
  const maxAbs = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    const a = Math.abs(data[i]);
    if (a > maxAbs[c]) maxAbs[c] = a;
  }
  const scales = maxAbs.map((m) => (m > 0 ? m / levels : 1));
  const values = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    values[i] = Math.max(-levels, Math.min(levels, Math.round(data[i] / scales[c])));
  }
  return { values, scales };
}

export const WEIGHT_OPS = ['Conv', 'ConvTranspose', 'MatMul'] as const;

export interface WeightQuantReport {
  /** Weight tensors rewritten. */
  tensors: number;
  /** Bytes of those tensors as float32, and as int8 values plus float32 scales. */
  bytesBefore: number;
  bytesAfter: number;
  /** Worst |w − dequant(w)| / max|w| of its channel, over all tensors (≤ 0.5/127 by construction). */
  maxRelError: number;
}

export interface WeightQuantOptions {
  /** Tensors with fewer elements stay float: they cost little to store and small layers are the sensitive ones. */
  minElements?: number;
  /** Weight tensor names to keep in float. */
  keep?: string[];
}

/** Weight inputs (input 1) of the listed ops whose every reader agrees on the output-channel axis. */
export function quantizableWeights(model: ModelProto, opts: WeightQuantOptions = {}): Map<string, { axis: number }> {
  const graph = graphOf(model);
  const constants = constantsOf(graph);
  const uses = consumersOf(graph);
  const out = new Map<string, { axis: number }>();
  for (const [name, { tensor }] of constants) {
    if (tensor.dataType !== DT.FLOAT || opts.keep?.includes(name)) continue;
    if (elementCount(dimsOf(tensor)) < (opts.minElements ?? 0)) continue;
    const readers = uses.get(name) ?? [];
    if (!readers.length) continue;
    const rank = dimsOf(tensor).length;
    const axes = readers.map(({ node, index }) =>
      index === 1 && (WEIGHT_OPS as readonly string[]).includes(node.opType ?? '') && rank >= 2 ? outputChannelAxis(node.opType!, rank) : -1,
    );
    if (axes.every((a) => a >= 0 && a === axes[0])) out.set(name, { axis: axes[0] });
  }
  return out;
}

export function quantizeWeightsInt8(source: ModelProto, opts: WeightQuantOptions = {}): { model: ModelProto; report: WeightQuantReport } {
  const model = cloneModel(source);
  const graph = graphOf(model);
  const targets = quantizableWeights(model, opts);
  const fresh = nameAllocator(graph);
  const report: WeightQuantReport = { tensors: 0, bytesBefore: 0, bytesAfter: 0, maxRelError: 0 };
  const nodes: NodeProto[] = [];
  for (const node of graph.node) {
    const name = node.output?.[0] ?? '';
    const target = node.opType === 'Constant' ? targets.get(name) : undefined;
    if (!target) {
      nodes.push(node);
      continue;
    }
    const tensor = constantValue(node)!;
    const dims = dimsOf(tensor);
    const data = readFloat32(tensor);
    const { values, scales } = quantizePerChannel(data, dims, target.axis);
    report.maxRelError = Math.max(report.maxRelError, relativeError(data, dims, target.axis, values, scales));
    const scaleDims = dims.map((d, i) => (i === target.axis ? d : 1));
    const qName = fresh(`${name}_int8`);
    const sName = fresh(`${name}_scale`);
    const castName = fresh(`${name}_int8_as_float`);
    nodes.push(
      constantNode(qName, int8Tensor(dims, values)),
      constantNode(sName, float32Tensor(scaleDims, scales)),
      { opType: 'Cast', name: castName, input: [qName], output: [castName], attribute: [intAttr('to', DT.FLOAT)] },
      // Keeps the original tensor name, so the weight's readers are untouched.
      { opType: 'Mul', name: fresh(`${name}_dequantize`), input: [castName, sName], output: [name] },
    );
    report.tensors++;
    report.bytesBefore += data.byteLength;
    report.bytesAfter += values.byteLength + scales.byteLength;
  }
  graph.node = nodes;
  return { model, report };
}

function relativeError(data: Float32Array, dims: number[], axis: number, q: Int8Array, scales: Float32Array): number {
  const inner = elementCount(dims.slice(axis + 1));
  let worst = 0;
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % dims[axis];
    const range = scales[c] * 127;
    if (range > 0) worst = Math.max(worst, Math.abs(data[i] - q[i] * scales[c]) / range);
  }
  return worst;
}
