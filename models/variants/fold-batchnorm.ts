/**
 * Folds BatchNormalization into the Conv that feeds it (W' = W·γ/√(σ²+ε) per output channel, b' = (b−μ)·γ/√(σ²+ε) + β).
 * onnxruntime does the same fusion when a session loads; doing it in the file first drops the BN parameters from the
 * download and lets the quantisers see the weights that are actually applied.
 */
import {
  attrFloat,
  cloneModel,
  constantNode,
  constantsOf,
  consumersOf,
  dimsOf,
  elementCount,
  float32Tensor,
  graphOf,
  nameAllocator,
  producersOf,
  readFloat32,
  DT,
  type ModelProto,
  type NodeProto,
} from './onnx-graph';

export function foldBatchNorm(source: ModelProto): { model: ModelProto; folded: number } {
  const model = cloneModel(source);
  const graph = graphOf(model);
  const constants = constantsOf(graph);
  const uses = consumersOf(graph);
  const producers = producersOf(graph);
  const fresh = nameAllocator(graph);
  const graphOutputs = new Set((graph.output ?? []).map((v) => v.name));
  const drop = new Set<NodeProto>();
  const replace = new Map<NodeProto, NodeProto[]>();
  const isFloatConst = (name: string | undefined) => !!name && constants.get(name)?.tensor.dataType === DT.FLOAT;
  const soleUse = (name: string) => (uses.get(name) ?? []).length === 1 && !graphOutputs.has(name);

  for (const bn of graph.node) {
    if (bn.opType !== 'BatchNormalization' || (bn.output ?? []).filter(Boolean).length !== 1) continue;
    const [x, gammaName, betaName, meanName, varName] = bn.input ?? [];
    const conv = producers.get(x ?? '');
    if (!conv || conv.opType !== 'Conv' || replace.has(conv) || !soleUse(x!)) continue;
    const [, wName, bName] = conv.input ?? [];
    if (![wName, gammaName, betaName, meanName, varName].every(isFloatConst) || (bName && !isFloatConst(bName))) continue;
    if (![wName, gammaName, betaName, meanName, varName].every((n) => soleUse(n!)) || (bName && !soleUse(bName))) continue;

    const wDims = dimsOf(constants.get(wName!)!.tensor);
    const w = readFloat32(constants.get(wName!)!.tensor);
    const [gamma, beta, mean, variance] = [gammaName, betaName, meanName, varName].map((n) => readFloat32(constants.get(n!)!.tensor));
    const channels = wDims[0];
    const bias = bName ? readFloat32(constants.get(bName)!.tensor) : new Float32Array(channels);
    const eps = attrFloat(bn, 'epsilon') ?? 1e-5;
    const inner = elementCount(wDims.slice(1));
    const newW = new Float32Array(w.length);
    const newB = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const k = gamma[c] / Math.sqrt(variance[c] + eps);
      for (let i = c * inner; i < (c + 1) * inner; i++) newW[i] = w[i] * k;
      newB[c] = (bias[c] - mean[c]) * k + beta[c];
    }
    const wOut = fresh(`${wName}_bn_folded`);
    const bOut = fresh(`${bName ?? `${wName}_bias`}_bn_folded`);
    for (const n of [wName, bName, gammaName, betaName, meanName, varName]) if (n) drop.add(constants.get(n)!.node);
    drop.add(bn);
    const folded: NodeProto = { ...conv, input: [conv.input![0], wOut, bOut], output: [bn.output![0]] };
    replace.set(conv, [constantNode(wOut, float32Tensor(wDims, newW)), constantNode(bOut, float32Tensor([channels], newB)), folded]);
  }
  graph.node = graph.node.flatMap((n) => (drop.has(n) ? [] : (replace.get(n) ?? [n])));
  return { model, folded: replace.size };
}
