/** Checks a decoded inference request against the model's manifest entry before it reaches a worker. */
import type { ManifestModel, ManifestTensor } from '../../core/models/manifest';
import type { InferenceRequest, NumericTensorData, SharedMemoryRef, Tensor } from '../../core/protocol/oip';
import { sharedMemoryRef } from '../../core/protocol/oip-codec';
import { ServerError } from '../http/errors';
import type { TensorMap } from '../runtime/messages';

export interface ValidatedRequest {
  inputs: TensorMap;
  /** Output names to compute, in reply order. */
  outputs: string[];
  /** Requested outputs the client wants written to a shared memory region instead of the reply. */
  outputRegions: Map<string, SharedMemoryRef>;
}

const dims = (shape: readonly number[]) => `[${shape.join(',')}]`;

export function validateInferenceRequest(model: ManifestModel, request: InferenceRequest): ValidatedRequest {
  const expected = new Map(model.inputs.map((t) => [t.name, t]));
  const given = new Map(request.inputs.map((t) => [t.name, t]));
  const unknown = [...given.keys()].filter((n) => !expected.has(n));
  const missing = [...expected.keys()].filter((n) => !given.has(n));
  if (unknown.length || missing.length) {
    throw new ServerError(
      'InputMismatch',
      `model ${model.name} takes inputs ${model.inputs.map((t) => t.name).join(', ')}` +
        (missing.length ? `; missing ${missing.join(', ')}` : '') +
        (unknown.length ? `; unknown ${unknown.join(', ')}` : ''),
    );
  }
  const inputs: TensorMap = {};
  for (const spec of model.inputs) {
    const t = given.get(spec.name)!;
    checkTensor(model.name, spec, t);
    inputs[spec.name] = { datatype: spec.datatype, dims: t.shape, data: t.data as NumericTensorData };
  }
  let outputs = model.outputs.map((t) => t.name);
  if (request.outputs && request.outputs.length > 0) {
    const known = new Set(outputs);
    const bad = request.outputs.filter((o) => !known.has(o.name)).map((o) => o.name);
    if (bad.length) {
      throw new ServerError('UnknownOutput', `model ${model.name} has no output ${bad.join(', ')}; its outputs are ${outputs.join(', ')}`);
    }
    outputs = request.outputs.map((o) => o.name);
  }
  const outputRegions = new Map<string, SharedMemoryRef>();
  for (const o of request.outputs ?? []) {
    const ref = sharedMemoryRef(o.parameters, `output ${o.name}`);
    if (ref) outputRegions.set(o.name, ref);
  }
  return { inputs, outputs, outputRegions };
}

function checkTensor(modelName: string, spec: ManifestTensor, t: Tensor): void {
  const at = `input ${spec.name} of ${modelName}`;
  if (t.datatype !== spec.datatype) {
    throw new ServerError('DatatypeMismatch', `${at} must be ${spec.datatype}, got ${t.datatype}`);
  }
  if (t.shape.length !== spec.shape.length) {
    throw new ServerError('ShapeMismatch', `${at} must have rank ${spec.shape.length} ${dims(spec.shape)}, got ${dims(t.shape)}`);
  }
  spec.shape.forEach((want, i) => {
    const got = t.shape[i];
    if (want >= 0 && got !== want) {
      throw new ServerError('ShapeMismatch', `${at} must have shape ${dims(spec.shape)} (-1 = any size), got ${dims(t.shape)}: dimension ${i} must be ${want}`);
    }
    if (got < 1) throw new ServerError('ShapeMismatch', `${at} has an empty dimension ${i} in ${dims(t.shape)}`);
  });
}
