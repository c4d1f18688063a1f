/**
 * fp16 variant (for WebGPU): float weights stored and computed in half precision, while the graph's float inputs and
 * outputs stay float32 through Cast nodes at the boundary, so callers feed and read the same tensors as with fp32.
 *
 * Some inputs must stay float32 whatever the data type (Resize's roi/scales, Upsample's scales); ops listed in
 * `keepFloat32Ops` run in float32 between Casts (for ranges fp16 cannot hold, e.g. squared activations).
 */
import {
  DT,
  cloneModel,
  constantNode,
  constantValue,
  float16Tensor,
  float32ToFloat16,
  graphOf,
  inferElemTypes,
  intAttr,
  nameAllocator,
  readFloat32,
  dimsOf,
  attrInt,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from './onnx-graph';

/** Node inputs that the ONNX spec types as float32 regardless of the op's T. */
const FLOAT32_ONLY_INPUTS: Record<string, number[]> = { Resize: [1, 2], Upsample: [1] };

export interface Fp16Options {
  keepFloat32Ops?: string[];
}

export interface Fp16Report {
  constantsConverted: number;
  castsInserted: number;
  nodesKeptFloat32: number;
}

type Precision = 'fp16' | 'fp32';

function toHalf(t: TensorProto): TensorProto {
  return float16Tensor(dimsOf(t), float32ToFloat16(readFloat32(t)));
}

export function convertToFloat16(source: ModelProto, opts: Fp16Options = {}): { model: ModelProto; report: Fp16Report } {
  const model = cloneModel(source);
  const graph = graphOf(model);
  const keep = new Set(opts.keepFloat32Ops ?? []);
  const types = inferElemTypes(graph);
  const fresh = nameAllocator(graph);
  const report: Fp16Report = { constantsConverted: 0, castsInserted: 0, nodesKeptFloat32: 0 };
  const isFloat = (name: string) => types.get(name) === DT.FLOAT;
  const nodePrecision = (n: NodeProto): Precision => (keep.has(n.opType ?? '') ? 'fp32' : 'fp16');

  // Where each float tensor lives after conversion: graph inputs stay fp32, node outputs follow their node.
  const home = new Map<string, Precision>();
  for (const v of graph.input ?? []) if (isFloat(v.name ?? '')) home.set(v.name!, 'fp32');
  const constants = new Map<string, NodeProto>();
  for (const node of graph.node) {
    if (node.opType === 'Constant') {
      if (isFloat(node.output![0])) constants.set(node.output![0], node);
      continue;
    }
    for (const o of node.output ?? []) if (isFloat(o)) home.set(o, nodePrecision(node));
  }

  // What each reader needs.
  const needs = new Map<string, Set<Precision>>();
  const need = (name: string, p: Precision) => {
    if (!needs.has(name)) needs.set(name, new Set());
    needs.get(name)!.add(p);
  };
  const slotPrecision = (node: NodeProto, index: number): Precision => (FLOAT32_ONLY_INPUTS[node.opType ?? '']?.includes(index) ? 'fp32' : nodePrecision(node));
  for (const node of graph.node)
    (node.input ?? []).forEach((n, i) => {
      if (n && isFloat(n)) need(n, slotPrecision(node, i));
    });
  for (const v of graph.output ?? []) if (isFloat(v.name ?? '')) need(v.name!, 'fp32');

  // Constants: store in the precision readers want (both, if they disagree).
  const rename = new Map<string, Partial<Record<Precision, string>>>();
  const extraConstants = new Map<NodeProto, NodeProto[]>();
  for (const [name, node] of constants) {
    const wanted = needs.get(name) ?? new Set<Precision>();
    const tensor = constantValue(node)!;
    if (wanted.has('fp16') && !wanted.has('fp32')) {
      node.attribute = [{ ...node.attribute![0], t: toHalf(tensor) }];
      home.set(name, 'fp16');
      report.constantsConverted++;
    } else {
      home.set(name, 'fp32');
      if (wanted.has('fp16')) {
        const half = fresh(`${name}_fp16`);
        extraConstants.set(node, [constantNode(half, toHalf(tensor))]);
        rename.set(name, { fp16: half });
        report.constantsConverted++;
      }
    }
  }

  // Graph outputs produced in fp16: the producer writes `<out>_fp16`, a Cast restores `<out>` as float32.
  const outputCasts: NodeProto[] = [];
  const outputRename = new Map<string, string>();
  for (const v of graph.output ?? []) {
    const name = v.name ?? '';
    if (!isFloat(name) || home.get(name) !== 'fp16') continue;
    const inner = fresh(`${name}_fp16`);
    outputRename.set(name, inner);
    home.set(inner, 'fp16');
    outputCasts.push(castNode(inner, name, DT.FLOAT, fresh(`${name}_to_fp32`)));
    report.castsInserted++;
  }

  // Other mismatches get one Cast each, placed right after the tensor is available.
  const castsAfter = new Map<string, NodeProto[]>();
  const castOf = (name: string, p: Precision): string => {
    const known = rename.get(name)?.[p];
    if (known) return known;
    const out = fresh(`${name}_as_${p}`);
    const list = castsAfter.get(name) ?? [];
    list.push(castNode(outputRename.get(name) ?? name, out, p === 'fp16' ? DT.FLOAT16 : DT.FLOAT, fresh(`${name}_cast_${p}`)));
    castsAfter.set(name, list);
    rename.set(name, { ...rename.get(name), [p]: out });
    report.castsInserted++;
    return out;
  };

  for (const node of graph.node) {
    if (node.opType === 'Constant') continue;
    const p = nodePrecision(node);
    if (p === 'fp32') report.nodesKeptFloat32++;
    if (node.opType === 'Cast' && attrInt(node, 'to', 0) === DT.FLOAT && p === 'fp16') {
      node.attribute = [intAttr('to', DT.FLOAT16)];
      // Cast's output type changed: its readers see fp16 now, as `home` already says.
    }
    node.input = (node.input ?? []).map((n, i) => {
      if (!n || !isFloat(n)) return n;
      const want = slotPrecision(node, i);
      const src = outputRename.get(n) ?? n;
      return home.get(n) === want ? src : castOf(n, want);
    });
    node.output = (node.output ?? []).map((o) => outputRename.get(o) ?? o);
  }

  const graphInputs = (graph.input ?? []).map((v) => v.name ?? '');
  const nodes: NodeProto[] = [];
  for (const name of graphInputs) nodes.push(...(castsAfter.get(name) ?? []));
  for (const node of graph.node) {
    nodes.push(node, ...(extraConstants.get(node) ?? []));
    for (const o of node.output ?? []) {
      const original = [...outputRename].find(([, inner]) => inner === o)?.[0] ?? o;
      nodes.push(...(castsAfter.get(original) ?? []));
    }
  }
  nodes.push(...outputCasts);
  graph.node = nodes;
  // Recorded intermediate types would now be wrong; they are optional, so drop them.
  graph.valueInfo = [];
  return { model, report };
}

function castNode(input: string, output: string, to: number, name: string): NodeProto {
  return { opType: 'Cast', name, input: [input], output: [output], attribute: [intAttr('to', to)] };
}
