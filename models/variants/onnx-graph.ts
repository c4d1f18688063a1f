/**
 * Small toolkit over the ONNX protobuf (onnx-proto / protobufjs): decode, encode, tensor data, graph lookups.
 * The PaddleOCR exports keep every weight in a `Constant` node (no initializers), so "weight" here means
 * "the tensor of a Constant node".
 */
import onnxProto from 'onnx-proto';
import { f16BitsToNumber, numberToF16Bits } from '../../core/protocol/half';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
} as const;

const ATTR = onnx.AttributeProto.AttributeType;

/** protobufjs hands 64-bit fields over as Long objects; every value in these graphs fits a double. */
export function num(v: unknown): number {
  if (v == null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  const model = onnx.ModelProto.decode(bytes);
  if (!model.graph) throw new Error('ONNX model has no graph');
  return model;
}

export function encodeModel(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Deep copy through the wire format: the variants rewrite graphs in place and must not touch the caller's model. */
export function cloneModel(model: onnxProto.onnx.IModelProto): ModelProto {
  return decodeModel(encodeModel(model));
}

export function graphOf(model: onnxProto.onnx.IModelProto): GraphProto & { node: NodeProto[] } {
  const graph = model.graph;
  if (!graph) throw new Error('ONNX model has no graph');
  graph.node ??= [];
  return graph as GraphProto & { node: NodeProto[] };
}

export function opsetOf(model: onnxProto.onnx.IModelProto): number {
  return num((model.opsetImport ?? []).find((o) => !o.domain)?.version);
}

export function dimsOf(t: TensorProto): number[] {
  return (t.dims ?? []).map(num);
}

export function elementCount(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Copies raw bytes into a fresh, aligned buffer (decoded `rawData` is a view into the model buffer at any offset). */
function alignedRaw(raw: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  return copy.buffer;
}

export function readFloat32(t: TensorProto): Float32Array {
  const n = elementCount(dimsOf(t));
  if (t.dataType === DT.FLOAT) {
    if (t.rawData && t.rawData.byteLength) return new Float32Array(alignedRaw(t.rawData));
    return Float32Array.from(t.floatData ?? []).subarray(0, n);
  }
  if (t.dataType === DT.FLOAT16) {
    const bits = t.rawData && t.rawData.byteLength ? new Uint16Array(alignedRaw(t.rawData)) : Uint16Array.from(t.int32Data ?? []);
    return float16BitsToFloat32(bits);
  }
  throw new Error(`tensor ${t.name ?? '?'} has data type ${t.dataType}, expected FLOAT or FLOAT16`);
}

export function readInt64(t: TensorProto): number[] {
  if (t.dataType !== DT.INT64) throw new Error(`tensor ${t.name ?? '?'} has data type ${t.dataType}, expected INT64`);
  if (t.rawData && t.rawData.byteLength) return Array.from(new BigInt64Array(alignedRaw(t.rawData)), Number);
  return (t.int64Data ?? []).map(num);
}

const rawBytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export function float32Tensor(dims: number[], data: Float32Array): TensorProto {
  return { dims, dataType: DT.FLOAT, rawData: rawBytes(data) };
}

export function int8Tensor(dims: number[], data: Int8Array): TensorProto {
  return { dims, dataType: DT.INT8, rawData: rawBytes(data) };
}

export function uint8Tensor(dims: number[], data: Uint8Array): TensorProto {
  return { dims, dataType: DT.UINT8, rawData: rawBytes(data) };
}

export function int32Tensor(dims: number[], data: Int32Array): TensorProto {
  return { dims, dataType: DT.INT32, rawData: rawBytes(data) };
}

const INT64_MAX = 2n ** 63n - 1n;

/** Values at or beyond ±2^63 (e.g. INT64_MAX "to the end" sentinels that went through a double) saturate. */
export function int64Tensor(dims: number[], values: number[]): TensorProto {
  const big = (v: number) => (v >= 2 ** 63 ? INT64_MAX : v <= -(2 ** 63) ? -INT64_MAX - 1n : BigInt(v));
  return { dims, dataType: DT.INT64, rawData: rawBytes(BigInt64Array.from(values, big)) };
}

export function float16Tensor(dims: number[], bits: Uint16Array): TensorProto {
  return { dims, dataType: DT.FLOAT16, rawData: rawBytes(bits) };
}

export function constantNode(output: string, value: TensorProto): NodeProto {
  return {
    opType: 'Constant',
    name: output,
    input: [],
    output: [output],
    attribute: [{ name: 'value', type: ATTR.TENSOR, t: value }],
  };
}

export const intAttr = (name: string, i: number): AttributeProto => ({ name, type: ATTR.INT, i });
export const intsAttr = (name: string, ints: number[]): AttributeProto => ({ name, type: ATTR.INTS, ints });
export const floatAttr = (name: string, f: number): AttributeProto => ({ name, type: ATTR.FLOAT, f });

export function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a ? num(a.i) : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map(num) : undefined;
}

export function attrFloat(node: NodeProto, name: string): number | undefined {
  const a = attr(node, name);
  return a ? (a.f ?? 0) : undefined;
}

/** The tensor held by a Constant node's `value` attribute (other Constant forms are not used by these exports). */
export function constantValue(node: NodeProto): TensorProto | undefined {
  if (node.opType !== 'Constant') return undefined;
  return attr(node, 'value')?.t ?? undefined;
}

export interface ConstantRef {
  node: NodeProto;
  tensor: TensorProto;
}

/** Output name → Constant node and its tensor. */
export function constantsOf(graph: GraphProto): Map<string, ConstantRef> {
  const out = new Map<string, ConstantRef>();
  for (const node of graph.node ?? []) {
    const t = constantValue(node);
    if (t && node.output?.[0]) out.set(node.output[0], { node, tensor: t });
  }
  return out;
}

export interface Use {
  node: NodeProto;
  index: number;
}

/** Tensor name → the node inputs that read it. */
export function consumersOf(graph: GraphProto): Map<string, Use[]> {
  const out = new Map<string, Use[]>();
  for (const node of graph.node ?? []) {
    (node.input ?? []).forEach((name, index) => {
      if (!name) return;
      const list = out.get(name) ?? [];
      list.push({ node, index });
      out.set(name, list);
    });
  }
  return out;
}

/** Tensor name → the node that writes it. */
export function producersOf(graph: GraphProto): Map<string, NodeProto> {
  const out = new Map<string, NodeProto>();
  for (const node of graph.node ?? []) for (const name of node.output ?? []) if (name) out.set(name, node);
  return out;
}

/** Returns a function that hands out tensor names not yet used anywhere in the graph. */
export function nameAllocator(graph: GraphProto): (base: string) => string {
  const used = new Set<string>();
  for (const node of graph.node ?? []) {
    for (const n of [...(node.input ?? []), ...(node.output ?? [])]) used.add(n);
    if (node.name) used.add(node.name);
  }
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) used.add(v.name ?? '');
  for (const t of graph.initializer ?? []) used.add(t.name ?? '');
  return (base) => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
}

/** Element type of every tensor, propagated forward (Cast/Shape/Constant decide theirs; other ops follow input 0). */
export function inferElemTypes(graph: GraphProto): Map<string, number> {
  const types = new Map<string, number>();
  for (const v of graph.input ?? []) types.set(v.name ?? '', v.type?.tensorType?.elemType ?? 0);
  for (const t of graph.initializer ?? []) types.set(t.name ?? '', t.dataType ?? 0);
  for (const node of graph.node ?? []) {
    let out: number;
    if (node.opType === 'Constant') out = constantValue(node)?.dataType ?? 0;
    else if (node.opType === 'Cast') out = attrInt(node, 'to', 0);
    else if (node.opType === 'QuantizeLinear') out = node.input?.[2] ? (types.get(node.input[2]) ?? DT.UINT8) : DT.UINT8;
    else if (node.opType === 'DequantizeLinear') out = DT.FLOAT;
    else if (['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero'].includes(node.opType ?? '')) out = DT.INT64;
    else if (['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf'].includes(node.opType ?? ''))
      out = DT.BOOL;
    else out = (node.input ?? []).map((n) => types.get(n) ?? 0).find((t) => t !== 0) ?? 0;
    for (const o of node.output ?? []) types.set(o, out);
  }
  return types;
}

/** A graph input/output description with an element type and, when given, a shape (`null` for a dynamic dim). */
export function valueInfo(name: string, elemType: number, shape?: (number | string | null)[]): ValueInfoProto {
  const tensorType: onnxProto.onnx.TypeProto.ITensor = { elemType };
  // No `shape` field at all means "unknown rank"; an empty shape would mean a scalar.
  if (shape) tensorType.shape = { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : d ? { dimParam: d } : {})) };
  return { name, type: { tensorType } };
}

// IEEE 754 binary16, round to nearest even (what numpy's astype(float16) does): the wire codec's converters.
export { numberToF16Bits as float32ToFloat16Bits } from '../../core/protocol/half';

export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16BitsToNumber(bits[i]);
  return out;
}

export function float32ToFloat16(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = numberToF16Bits(data[i]);
  return out;
}
