/** Reads a model's graph inputs/outputs and opset from ONNX protobuf bytes. */
import onnxProto from 'onnx-proto';
import type { ManifestTensor, TensorDatatype } from '../../core/models/manifest';

const { onnx } = onnxProto;

// onnx.TensorProto.DataType numbering.
const DATATYPES: Record<number, TensorDatatype> = {
  1: 'FP32',
  2: 'UINT8',
  3: 'INT8',
  6: 'INT32',
  7: 'INT64',
  8: 'BYTES',
  9: 'BOOL',
  10: 'FP16',
};

export interface OnnxIo {
  opset: number;
  inputs: ManifestTensor[];
  outputs: ManifestTensor[];
}

function toTensor(v: onnxProto.onnx.IValueInfoProto): ManifestTensor {
  const tt = v.type?.tensorType;
  const datatype = DATATYPES[tt?.elemType ?? 0];
  if (!v.name || !tt || !datatype) throw new Error(`unsupported graph value ${v.name ?? '?'}`);
  const dims = tt.shape?.dim ?? [];
  return {
    name: v.name,
    datatype,
    shape: dims.map((d) => (d.dimValue != null && d.dimParam == null ? Number(d.dimValue) : -1)),
    dimNames: dims.map((d) => d.dimParam ?? null),
  };
}

export function readOnnxIo(bytes: Uint8Array): OnnxIo {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('ONNX model has no graph');
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const opset = (model.opsetImport ?? []).find((o) => !o.domain)?.version;
  return {
    opset: Number(opset ?? 0),
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(toTensor),
    outputs: (graph.output ?? []).map(toTensor),
  };
}
