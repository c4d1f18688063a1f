import { describe, expect, it } from 'vitest';
import type { ManifestModel } from '../../core/models/manifest';
import type { InferenceRequest } from '../../core/protocol/oip';
import { validateInferenceRequest } from './validate';

const rec = {
  name: 'ppocr-rec',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 48, -1] }],
  outputs: [
    { name: 'softmax', datatype: 'FP32', shape: [-1, -1, 6625] },
    { name: 'aux', datatype: 'FP32', shape: [-1] },
  ],
} as unknown as ManifestModel;

const input = (shape: number[], datatype: 'FP32' | 'FP16' = 'FP32'): InferenceRequest => ({
  inputs: [
    {
      name: 'x',
      datatype,
      shape,
      data: datatype === 'FP32' ? new Float32Array(shape.reduce((a, b) => a * b, 1)) : new Uint16Array(shape.reduce((a, b) => a * b, 1)),
    },
  ],
});

describe('validateInferenceRequest', () => {
  it('accepts any size in dynamic dimensions and returns all outputs by default', () => {
    const v = validateInferenceRequest(rec, input([2, 3, 48, 100]));
    expect(v.inputs.x.dims).toEqual([2, 3, 48, 100]);
    expect(v.outputs).toEqual(['softmax', 'aux']);
  });

  it('passes on the shared memory place of requested outputs', () => {
    const v = validateInferenceRequest(rec, {
      ...input([1, 3, 48, 8]),
      outputs: [{ name: 'aux' }, { name: 'softmax', parameters: { shared_memory_region: 'out', shared_memory_byte_size: 4096, shared_memory_offset: 64 } }],
    });
    expect(v.outputs).toEqual(['aux', 'softmax']);
    expect([...v.outputRegions]).toEqual([['softmax', { region: 'out', offset: 64, byteSize: 4096 }]]);
  });

  it('returns only the requested outputs, in request order', () => {
    expect(validateInferenceRequest(rec, { ...input([1, 3, 48, 8]), outputs: [{ name: 'aux' }] }).outputs).toEqual(['aux']);
  });

  it.each([
    [[1, 3, 32, 100], 'ShapeMismatch', /dimension 2 must be 48/],
    [[1, 3, 48], 'ShapeMismatch', /must have rank 4/],
    [[0, 3, 48, 10], 'ShapeMismatch', /empty dimension 0/],
  ])('refuses shape %j', (shape, code, message) => {
    expect(() => validateInferenceRequest(rec, input(shape))).toThrow(expect.objectContaining({ name: code, message: expect.stringMatching(message) }));
  });

  it('refuses the wrong datatype, unknown inputs and unknown outputs', () => {
    expect(() => validateInferenceRequest(rec, input([1, 3, 48, 8], 'FP16'))).toThrow(/must be FP32, got FP16/);
    const renamed = input([1, 3, 48, 8]);
    renamed.inputs[0].name = 'y';
    expect(() => validateInferenceRequest(rec, renamed)).toThrow(
      expect.objectContaining({ name: 'InputMismatch', message: 'model ppocr-rec takes inputs x; missing x; unknown y' }),
    );
    expect(() => validateInferenceRequest(rec, { ...input([1, 3, 48, 8]), outputs: [{ name: 'logits' }] })).toThrow(
      expect.objectContaining({ name: 'UnknownOutput', message: expect.stringMatching(/no output logits; its outputs are softmax, aux/) }),
    );
  });
});
