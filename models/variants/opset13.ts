/**
 * Raises a model's default-domain opset to 13 (needed for per-channel QuantizeLinear/DequantizeLinear), rewriting
 * the ops whose form changed on the way so that every node computes what it computed before:
 *   Clip < 11: min/max attributes → inputs.   Slice < 10: starts/ends/axes attributes → int64 inputs.
 *   Squeeze/Unsqueeze < 13: axes attribute → int64 input.
 *   Softmax/LogSoftmax < 13: "flatten to 2-D at `axis`, normalise rows" → Flatten + Softmax(-1) + Reshape back,
 *   which is exact for any rank (kept as is when axis is -1, where both definitions agree).
 * Ops not on the list below are refused rather than guessed at.
 */
import {
  attr,
  attrInt,
  attrInts,
  cloneModel,
  constantNode,
  float32Tensor,
  graphOf,
  int64Tensor,
  intAttr,
  nameAllocator,
  num,
  opsetOf,
  type ModelProto,
  type NodeProto,
} from './onnx-graph';

/** Ops whose meaning (for attribute usage in ONNX exports) is the same at every opset from 9 to 13. */
const UNCHANGED = new Set([
  'Constant',
  'Conv',
  'ConvTranspose',
  'BatchNormalization',
  'Mul',
  'Add',
  'Sub',
  'Div',
  'Pow',
  'Sqrt',
  'Relu',
  'Sigmoid',
  'HardSigmoid',
  'Tanh',
  'GlobalAveragePool',
  'AveragePool',
  'MaxPool',
  'Concat',
  'Shape',
  'Cast',
  'Reshape',
  'Transpose',
  'ReduceMean',
  'ReduceMax',
  'MatMul',
  'Gemm',
  'Flatten',
  'Identity',
  'Exp',
  'Neg',
  'Abs',
]);

export interface UpgradeReport {
  from: number;
  rewritten: Record<string, number>;
}

export function upgradeToOpset13(source: ModelProto): { model: ModelProto; report: UpgradeReport } {
  const from = opsetOf(source);
  if (from > 13) throw new Error(`model is already at opset ${from}`);
  const model = cloneModel(source);
  const graph = graphOf(model);
  const fresh = nameAllocator(graph);
  const rewritten: Record<string, number> = {};
  const count = (op: string) => {
    rewritten[op] = (rewritten[op] ?? 0) + 1;
  };
  const int64Const = (base: string, values: number[]) => {
    const name = fresh(base);
    return { name, node: constantNode(name, int64Tensor([values.length], values)) };
  };
  const nodes: NodeProto[] = [];

  for (const node of graph.node) {
    const op = node.opType ?? '';
    const without = (...names: string[]) => (node.attribute ?? []).filter((a) => !names.includes(a.name ?? ''));
    if (op === 'Clip' && from < 11) {
      const extra: NodeProto[] = [];
      const bound = (key: 'min' | 'max') => {
        const a = attr(node, key);
        if (!a) return '';
        const name = fresh(`${node.output![0]}_${key}`);
        extra.push(constantNode(name, float32Tensor([], Float32Array.of(a.f ?? 0))));
        return name;
      };
      const inputs = [node.input![0], bound('min'), bound('max')];
      while (inputs.length > 1 && !inputs[inputs.length - 1]) inputs.pop();
      nodes.push(...extra, { ...node, input: inputs, attribute: without('min', 'max') });
      count(op);
    } else if (op === 'Slice' && from < 10) {
      const starts = int64Const(`${node.output![0]}_starts`, attrInts(node, 'starts') ?? []);
      const ends = int64Const(`${node.output![0]}_ends`, attrInts(node, 'ends') ?? []);
      const axesAttr = attrInts(node, 'axes');
      const axes = axesAttr ? int64Const(`${node.output![0]}_axes`, axesAttr) : undefined;
      nodes.push(starts.node, ends.node, ...(axes ? [axes.node] : []), {
        ...node,
        input: [node.input![0], starts.name, ends.name, ...(axes ? [axes.name] : [])],
        attribute: without('starts', 'ends', 'axes'),
      });
      count(op);
    } else if ((op === 'Squeeze' || op === 'Unsqueeze') && attr(node, 'axes')) {
      const axes = int64Const(`${node.output![0]}_axes`, attrInts(node, 'axes')!);
      nodes.push(axes.node, { ...node, input: [node.input![0], axes.name], attribute: without('axes') });
      count(op);
    } else if (op === 'Squeeze' || op === 'Unsqueeze') {
      nodes.push(node);
    } else if (op === 'Softmax' || op === 'LogSoftmax') {
      const axis = attrInt(node, 'axis', 1);
      if (axis === -1) {
        nodes.push(node);
        continue;
      }
      const x = node.input![0];
      const y = node.output![0];
      const flat = fresh(`${y}_2d`),
        soft = fresh(`${y}_2d_${op.toLowerCase()}`),
        shape = fresh(`${x}_shape`);
      nodes.push(
        { opType: 'Flatten', name: fresh(`${node.name || y}_flatten`), input: [x], output: [flat], attribute: [intAttr('axis', axis)] },
        { opType: op, name: node.name, input: [flat], output: [soft], attribute: [intAttr('axis', -1)] },
        { opType: 'Shape', name: fresh(`${node.name || y}_shape`), input: [x], output: [shape] },
        { opType: 'Reshape', name: fresh(`${node.name || y}_restore`), input: [soft, shape], output: [y] },
      );
      count(op);
    } else if ((op === 'Resize' || op === 'Clip') && from >= 11) {
      nodes.push(node);
    } else if (UNCHANGED.has(op)) {
      nodes.push(node);
    } else {
      throw new Error(`cannot raise ${op} (node ${node.name || node.output?.[0]}) from opset ${from} to 13: not on the list of ops checked`);
    }
  }
  graph.node = nodes;
  model.opsetImport = (model.opsetImport ?? []).map((o) => (o.domain ? o : { ...o, version: 13 }));
  if (num(model.irVersion) < 7) model.irVersion = 7;
  return { model, report: { from, rewritten } };
}
