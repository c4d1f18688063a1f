/**
 * Static int8 quantisation in QDQ form (opset ≥ 13): around every Conv/MatMul with a constant weight,
 *   activations (input and output): QuantizeLinear → DequantizeLinear, uint8 asymmetric, scale from calibrated ranges;
 *   weights: int8 symmetric, one scale per output channel (DequantizeLinear with `axis`);
 *   Conv bias: int32 with scale = input scale × weight scale (what integer kernels expect).
 * onnxruntime fuses each DQ → op → Q group into an integer kernel (QLinearConv, QLinearMatMul) when it loads.
 * A quantised op's output is read by every consumer through its DQ, so its only direct reader is the Q.
 */
import {
  DT,
  cloneModel,
  constantNode,
  constantsOf,
  consumersOf,
  dimsOf,
  float32Tensor,
  graphOf,
  inferElemTypes,
  int32Tensor,
  int8Tensor,
  intAttr,
  nameAllocator,
  opsetOf,
  readFloat32,
  uint8Tensor,
  type ModelProto,
  type NodeProto,
} from './onnx-graph';
import { outputChannelAxis, quantizePerChannel } from './int8-weights';
import type { TensorRange } from './activation-ranges';

export interface QdqOptions {
  /** Op types to quantise (default Conv, MatMul). */
  ops?: string[];
  /** Weight tensor names whose ops stay in float. */
  keepFloat?: string[];
  /**
   * Weights are quantised to [-weightLevels, weightLevels] (default 127). x86 CPUs without VNNI (AVX2, AVX-512F) run
   * uint8 × int8 products with VPMADDUBSW, which adds pairs of them into int16 and saturates past 32767; with 63 a pair
   * stays within 32130 (onnxruntime's own quantiser calls this `reduce_range`). The models keep 8 bits: on the dev
   * set the int8 variant set at 960 px read 0.8856 of the words on an AVX2-only host with 8-bit weights and 0.8687
   * with 7-bit ones (`npx tsx models/profile/add-accuracy.ts --variants int8` on each build), so saturation costs
   * real photos less than the lost bit does.
   */
  weightLevels?: number;
}

export interface QdqReport {
  nodes: number;
  activations: number;
}

interface Target {
  node: NodeProto;
  /** The activation input, by its name before rewiring. */
  x: string;
  weight: string;
  axis: number;
}

function targetsOf(model: ModelProto, opts: QdqOptions): Target[] {
  const graph = graphOf(model);
  const constants = constantsOf(graph);
  const types = inferElemTypes(graph);
  const ops = opts.ops ?? ['Conv', 'MatMul'];
  const outputs = new Set((graph.output ?? []).map((v) => v.name));
  const targets: Target[] = [];
  for (const node of graph.node) {
    const [x, w] = node.input ?? [];
    const y = node.output?.[0] ?? '';
    if (!ops.includes(node.opType ?? '') || !w || opts.keepFloat?.includes(w)) continue;
    const weight = constants.get(w)?.tensor;
    if (!weight || weight.dataType !== DT.FLOAT || types.get(x) !== DT.FLOAT || outputs.has(y)) continue;
    const rank = dimsOf(weight).length;
    if (node.opType === 'MatMul' && rank !== 2) continue;
    const bias = node.input?.[2];
    if (bias && constants.get(bias)?.tensor.dataType !== DT.FLOAT) continue;
    targets.push({ node, x, weight: w, axis: outputChannelAxis(node.opType!, rank) });
  }
  return targets;
}

/** The activation tensors whose ranges quantisation needs: inputs and outputs of the ops it will quantise. */
export function activationsToCalibrate(model: ModelProto, opts: QdqOptions = {}): string[] {
  const names = new Set<string>();
  for (const t of targetsOf(model, opts)) names.add(t.node.input![0]).add(t.node.output![0]);
  return [...names];
}

/** uint8 asymmetric parameters covering [min(0, lo), max(0, hi)]. */
export function uint8Params(range: TensorRange, clipToPercentile = false): { scale: number; zeroPoint: number } {
  const cap = clipToPercentile ? range.absPercentile : Infinity;
  const lo = Math.min(0, Math.max(range.min, -cap));
  const hi = Math.max(0, Math.min(range.max, cap));
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale, zeroPoint: Math.max(0, Math.min(255, Math.round(-lo / scale))) };
}

export function quantizeStatic(
  source: ModelProto,
  ranges: Map<string, TensorRange>,
  opts: QdqOptions & { clipToPercentile?: boolean } = {},
): { model: ModelProto; report: QdqReport } {
  if (opsetOf(source) < 13) throw new Error(`per-channel QDQ needs opset 13; raise the model first (it is at ${opsetOf(source)})`);
  const model = cloneModel(source);
  const graph = graphOf(model);
  const targets = targetsOf(model, opts);
  const constants = constantsOf(graph);
  const consumers = consumersOf(graph);
  const fresh = nameAllocator(graph);
  const quantizedNodes = new Set(targets.map((t) => t.node));

  // One Q/DQ pair per activation tensor.
  const activationScale = new Map<string, number>();
  const dqName = new Map<string, string>();
  const pairAfter = new Map<string, NodeProto[]>();
  const quantizeActivation = (t: string) => {
    if (dqName.has(t)) return;
    const range = ranges.get(t);
    if (!range) throw new Error(`no calibrated range for ${t}`);
    const { scale, zeroPoint } = uint8Params(range, opts.clipToPercentile);
    const s = fresh(`${t}_scale`),
      z = fresh(`${t}_zero_point`),
      q = fresh(`${t}_quantized`),
      dq = fresh(`${t}_dequantized`);
    pairAfter.set(t, [
      constantNode(s, float32Tensor([], Float32Array.of(scale))),
      constantNode(z, uint8Tensor([], Uint8Array.of(zeroPoint))),
      { opType: 'QuantizeLinear', name: fresh(`${t}_QuantizeLinear`), input: [t, s, z], output: [q] },
      { opType: 'DequantizeLinear', name: fresh(`${t}_DequantizeLinear`), input: [q, s, z], output: [dq] },
    ]);
    activationScale.set(t, Math.fround(scale));
    dqName.set(t, dq);
  };
  for (const { node } of targets) {
    quantizeActivation(node.input![0]);
    quantizeActivation(node.output![0]);
  }

  // Rewire readers: quantised ops read their input through its DQ; every reader of a quantised op's output does.
  const outputsOfQuantized = new Set(targets.map((t) => t.node.output![0]));
  for (const [tensor, dq] of dqName) {
    for (const use of consumers.get(tensor) ?? []) {
      if (outputsOfQuantized.has(tensor) || (quantizedNodes.has(use.node) && use.index === 0)) use.node.input![use.index] = dq;
    }
  }

  // Weights (and Conv bias) as integer constants behind DequantizeLinear, placed before their op.
  const before = new Map<NodeProto, NodeProto[]>();
  const dropConstants = new Set<NodeProto>();
  for (const { node, x, weight, axis } of targets) {
    const wRef = constants.get(weight)!;
    const dims = dimsOf(wRef.tensor);
    const { values, scales } = quantizePerChannel(readFloat32(wRef.tensor), dims, axis, opts.weightLevels);
    const channels = dims[axis];
    const wq = fresh(`${weight}_quantized`),
      ws = fresh(`${weight}_scale`),
      wz = fresh(`${weight}_zero_point`),
      wdq = fresh(`${weight}_dequantized`);
    const added: NodeProto[] = [
      constantNode(wq, int8Tensor(dims, values)),
      constantNode(ws, float32Tensor([channels], scales)),
      constantNode(wz, int8Tensor([channels], new Int8Array(channels))),
      { opType: 'DequantizeLinear', name: fresh(`${weight}_DequantizeLinear`), input: [wq, ws, wz], output: [wdq], attribute: [intAttr('axis', axis)] },
    ];
    const inputs = [...node.input!];
    inputs[1] = wdq;
    const bias = node.input?.[2];
    if (bias) {
      const xScale = activationScale.get(x)!;
      const b = readFloat32(constants.get(bias)!.tensor);
      const bScales = scales.map((s) => Math.fround(s * xScale));
      const bq = Int32Array.from(b, (v, c) => Math.round(v / bScales[c]));
      const bqn = fresh(`${bias}_quantized`),
        bs = fresh(`${bias}_scale`),
        bz = fresh(`${bias}_zero_point`),
        bdq = fresh(`${bias}_dequantized`);
      added.push(
        constantNode(bqn, int32Tensor([channels], bq)),
        constantNode(bs, float32Tensor([channels], bScales)),
        constantNode(bz, int32Tensor([channels], new Int32Array(channels))),
        { opType: 'DequantizeLinear', name: fresh(`${bias}_DequantizeLinear`), input: [bqn, bs, bz], output: [bdq], attribute: [intAttr('axis', 0)] },
      );
      inputs[2] = bdq;
      if ((consumers.get(bias) ?? []).length === 1) dropConstants.add(constants.get(bias)!.node);
    }
    node.input = inputs;
    if ((consumers.get(weight) ?? []).length === 1) dropConstants.add(wRef.node);
    before.set(node, added);
  }

  const nodes: NodeProto[] = [];
  for (const name of (graph.input ?? []).map((v) => v.name ?? '')) nodes.push(...(pairAfter.get(name) ?? []));
  for (const node of graph.node) {
    if (dropConstants.has(node)) continue;
    nodes.push(...(before.get(node) ?? []), node);
    for (const o of node.output ?? []) nodes.push(...(pairAfter.get(o) ?? []));
  }
  graph.node = nodes;
  return { model, report: { nodes: targets.length, activations: dqName.size } };
}
