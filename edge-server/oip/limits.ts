/**
 * Work and memory one inference request may cause. The body limit bounds what a client sends, not what it makes the
 * server produce: a recognition run of shape [1,3,48,16000] (9 MB in) asked for JSON outputs answered 314 MB and
 * blocked the HTTP thread 8.8 s encoding them. Outputs are judged from the model's output shape before the run
 * where the input shapes determine it, otherwise on the real outputs before anything is encoded.
 */
import type { ManifestModel } from '../../core/models/manifest';
import { ServerError } from '../http/errors';
import type { TensorMap } from '../runtime/messages';

export interface OipLimits {
  maxOutputElements: number;
  maxJsonOutputElements: number;
  maxTensorBytes: number;
}

const ELEMENT_BYTES: Record<string, number> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  BF16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * Output elements the run will produce, per output, when the shapes tell: every dynamic output axis must be the batch
 * axis or an axis the input shares at the same position (a detector map as tall and wide as its image). null = unknown.
 */
export function predictOutputElements(model: ManifestModel, inputs: TensorMap): Map<string, number | null> {
  const spec = model.inputs[0];
  const given = spec ? inputs[spec.name] : undefined;
  const out = new Map<string, number | null>();
  for (const o of model.outputs) {
    if (!given || !spec) {
      out.set(o.name, o.shape.every((d) => d >= 0) ? count(o.shape) : null);
      continue;
    }
    const dims = o.shape.map((d, i) => {
      if (d >= 0) return d;
      if (i === 0 && spec.shape[0] < 0) return given.dims[0];
      return o.shape.length === spec.shape.length && spec.shape[i] < 0 ? given.dims[i] : null;
    });
    out.set(o.name, dims.every((d): d is number => d !== null) ? count(dims) : null);
  }
  return out;
}

function limitFor(limits: OipLimits, binary: boolean): number {
  return binary ? limits.maxOutputElements : Math.min(limits.maxOutputElements, limits.maxJsonOutputElements);
}

function tooLarge(model: string, name: string, elements: number, binary: boolean, limits: OipLimits): ServerError {
  const limit = limitFor(limits, binary);
  return new ServerError(
    'OutputTooLarge',
    `output ${name} of ${model} would have ${elements} elements, more than the ` +
      `${binary ? '' : 'JSON '}limit of ${limit} (${binary ? 'EDGE_MAX_OUTPUT_ELEMENTS' : 'EDGE_MAX_JSON_OUTPUT_ELEMENTS'}); ` +
      `${binary ? '' : 'ask for binary outputs (parameters.binary_data_output) or '}send a smaller input`,
  );
}

/** Before the run: input bytes plus predicted output bytes within maxTensorBytes, predicted outputs within their limit. */
export function checkBeforeRun(model: ManifestModel, inputs: TensorMap, outputs: string[], binary: (name: string) => boolean, limits: OipLimits): void {
  const predicted = predictOutputElements(model, inputs);
  let bytes = 0;
  for (const t of Object.values(inputs)) bytes += ArrayBuffer.isView(t.data) ? t.data.byteLength : count(t.dims) * 8;
  for (const name of outputs) {
    const elements = predicted.get(name);
    if (elements === null || elements === undefined) continue;
    if (elements > limitFor(limits, binary(name))) throw tooLarge(model.name, name, elements, binary(name), limits);
    const datatype = model.outputs.find((o) => o.name === name)?.datatype ?? 'FP32';
    bytes += elements * (ELEMENT_BYTES[datatype] ?? 8);
  }
  if (bytes > limits.maxTensorBytes) {
    throw new ServerError(
      'TensorTooLarge',
      `the request's tensors would take ${bytes} bytes, more than the limit of ` + `${limits.maxTensorBytes} (EDGE_MAX_TENSOR_BYTES); send a smaller input`,
    );
  }
}

/** After the run, before encoding: outputs whose size the shapes did not tell. */
export function checkAfterRun(model: string, outputs: TensorMap, binary: (name: string) => boolean, limits: OipLimits): void {
  for (const [name, t] of Object.entries(outputs)) {
    const elements = count(t.dims);
    if (elements > limitFor(limits, binary(name))) throw tooLarge(model, name, elements, binary(name), limits);
  }
}
