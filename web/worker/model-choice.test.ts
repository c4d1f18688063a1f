import { describe, expect, it } from 'vitest';
import type { Manifest, ManifestModel } from '../../core/models/manifest';
import { pickModels } from './model-choice';

function model(name: string, task: ManifestModel['task'], variant: ManifestModel['variant']): ManifestModel {
  return { name, task, variant } as ManifestModel;
}

const manifest = {
  schema: 1,
  models: [
    model('ppocr-det', 'text-detection', 'fp32'),
    model('ppocr-cls', 'text-orientation', 'fp32'),
    model('ppocr-rec', 'text-recognition', 'fp32'),
    model('ppocr-det-int8w', 'text-detection', 'int8-weights'),
    model('ppocr-rec-int8w', 'text-recognition', 'int8-weights'),
    model('ppocr-cls-int8w', 'text-orientation', 'int8-weights'),
  ],
} as Manifest;

describe('pickModels', () => {
  it('takes one model per role of the wanted variant', () => {
    const picked = pickModels(manifest, 'int8-weights');
    expect([picked.det.name, picked.cls.name, picked.rec.name]).toEqual(['ppocr-det-int8w', 'ppocr-cls-int8w', 'ppocr-rec-int8w']);
    expect(pickModels(manifest, 'fp32').rec.name).toBe('ppocr-rec');
  });

  it('names the missing task and what is offered instead', () => {
    expect(() => pickModels(manifest, 'fp16')).toThrow(/no fp16 text-detection model \(offered: fp32, int8-weights\)/);
    try {
      pickModels(manifest, 'fp16');
    } catch (error) {
      expect((error as Error).name).toBe('ModelUnavailable');
    }
  });
});
