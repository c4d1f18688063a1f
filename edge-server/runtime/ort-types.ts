/** Manifest/OIP datatypes <-> onnxruntime tensor type names. */
import type { TensorDatatype } from '../../core/models/manifest';

const TO_ORT = {
  FP32: 'float32',
  FP16: 'float16',
  INT8: 'int8',
  UINT8: 'uint8',
  INT32: 'int32',
  INT64: 'int64',
  BOOL: 'bool',
  BYTES: 'string',
} as const satisfies Record<TensorDatatype, string>;

export type OrtType = (typeof TO_ORT)[TensorDatatype];

export function toOrtType(datatype: TensorDatatype): OrtType {
  return TO_ORT[datatype];
}

export function fromOrtType(type: string): TensorDatatype {
  for (const [k, v] of Object.entries(TO_ORT)) if (v === type) return k as TensorDatatype;
  throw Object.assign(new Error(`model produced a ${type} tensor, which the protocol layer does not carry`), { name: 'UnsupportedDatatype' });
}
