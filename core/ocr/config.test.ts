import { describe, expect, it } from 'vitest';
import { parseDictionary, pipelineConfigFromManifest } from './config';
import type { Manifest, ManifestModel } from '../models/manifest';

const model = (name: string, task: ManifestModel['task'], preprocess: ManifestModel['preprocess'], classes = 0): ManifestModel => ({
  name,
  version: '1',
  variant: 'fp32',
  task,
  file: { path: `${name}/1/model.onnx`, bytes: 1, sha256: '' },
  assets: {},
  opset: 11,
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: classes ? [-1, -1, classes] : [-1, 2] }],
  preprocess,
  source: { package: '', version: '', file: '', upstream: '' },
  license: '',
});
const line = (kind: 'rec' | 'cls', maxWidth: number): ManifestModel['preprocess'] => ({
  kind,
  channels: 'BGR',
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  height: 48,
  maxWidth,
});
const manifest: Manifest = {
  schema: 1,
  models: [
    model('ppocr-det', 'text-detection', { kind: 'det', channels: 'BGR', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], maxSide: 960, multiple: 32 }),
    model('ppocr-cls', 'text-orientation', line('cls', 192)),
    model('ppocr-rec', 'text-recognition', line('rec', 3200), 5),
  ],
};

describe('config', () => {
  it('parses dictionaries with LF or CRLF and a trailing newline', () => {
    expect(parseDictionary('a\nb\nc\n')).toEqual(['a', 'b', 'c']);
    expect(parseDictionary('a\r\nb\r\nc')).toEqual(['a', 'b', 'c']);
  });
  it('builds the CTC charset (blank, lines, space) and maps roles to model names', () => {
    const c = pipelineConfigFromManifest(manifest, 'x\ny\nz\n');
    expect(c.charset).toEqual(['', 'x', 'y', 'z', ' ']);
    expect(c.models).toEqual({ det: 'ppocr-det', cls: 'ppocr-cls', rec: 'ppocr-rec' });
    expect(c.det.maxSide).toBe(960);
    expect(c.db).toEqual({ thresh: 0.3, boxThresh: 0.6, unclipRatio: 1.5, minSize: 3, maxCandidates: 1000 });
    expect(pipelineConfigFromManifest(manifest, 'x\ny\nz\n', { maxSide: 640, db: { boxThresh: 0.5 } }).det.maxSide).toBe(640);
  });
  it('refuses a dictionary that does not fit the recogniser, and unknown models, with codes', () => {
    expect(() => pipelineConfigFromManifest(manifest, 'x\ny\n')).toThrowError(
      expect.objectContaining({ name: 'OcrBadConfig', message: expect.stringMatching(/outputs 5/) }),
    );
    expect(() => pipelineConfigFromManifest(manifest, 'x\ny\nz\n', { models: { det: 'nope' } })).toThrowError(/not in the manifest/);
    expect(() => pipelineConfigFromManifest({ schema: 1, models: [] }, '')).toThrowError(/npm run models/);
  });
});
