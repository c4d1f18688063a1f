import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest, ManifestModel } from '../../core/models/manifest';
import { EXAMPLE_PROFILES } from '../../core/placement/example-profiles';
import type { Profiles } from '../../core/profiles';
import { accuracyTable, loadProfiles } from './accuracy';

const model = (name: string, variant: ManifestModel['variant'], task: ManifestModel['task']) => ({ name, variant, task }) as ManifestModel;
const manifest = {
  schema: 1,
  models: [
    model('ppocr-det', 'fp32', 'text-detection'),
    model('ppocr-det-int8w', 'int8-weights', 'text-detection'),
    model('ppocr-det-int8', 'int8', 'text-detection'),
    model('ppocr-det-fp16', 'fp16', 'text-detection'),
    model('ppocr-rec', 'fp32', 'text-recognition'),
    model('ppocr-rec-int8', 'int8', 'text-recognition'),
    model('ppocr-cls', 'fp32', 'text-orientation'),
    model('ppocr-cls-int8', 'int8', 'text-orientation'),
  ],
} as unknown as Manifest;
const defaults = { det: 'ppocr-det', maxSide: 960, rec: 'ppocr-rec' };

/** Measured-style profiles: ids `<family>@<variant>`, names the manifest's. */
const profiles: Profiles = {
  ...EXAMPLE_PROFILES,
  source: { kind: 'measured', description: 'fixture' },
  models: [
    { id: 'ppocr-det@fp32', name: 'ppocr-det', variant: 'fp32', role: 'det', weightBytes: 1 },
    { id: 'ppocr-det@int8', name: 'ppocr-det-int8', variant: 'int8', role: 'det', weightBytes: 1 },
    { id: 'ppocr-rec@fp32', name: 'ppocr-rec', variant: 'fp32', role: 'rec', weightBytes: 1 },
    { id: 'ppocr-rec@int8', name: 'ppocr-rec-int8', variant: 'int8', role: 'rec', weightBytes: 1 },
    { id: 'ppocr-cls@fp32', name: 'ppocr-cls', variant: 'fp32', role: 'cls', weightBytes: 1 },
  ],
  runtimes: [{ id: 'edge-ort-node-1t', location: 'edge', backend: 'ort-node', threads: 1, stages: [] }],
  splits: [],
  accuracy: [
    { det: 'ppocr-det@fp32', maxSide: 960, rec: 'ppocr-rec@fp32', wordRecall: 0.8 },
    { det: 'ppocr-det@fp32', maxSide: 480, rec: 'ppocr-rec@fp32', wordRecall: 0.6 },
    { det: 'ppocr-det@int8', maxSide: 960, rec: 'ppocr-rec@fp32', wordRecall: 0.78 },
    { det: 'ppocr-det@fp32', maxSide: 960, rec: 'ppocr-rec@int8', wordRecall: 0.77 },
  ],
  defaults: { det: 'ppocr-det@fp32', maxSide: 960, rec: 'ppocr-rec@fp32', cls: null },
};

describe('accuracy of configurations', () => {
  it('without profiles, orders fp32 > int8-weights > int8 > fp16 and larger sides above smaller', () => {
    const t = accuracyTable(manifest, defaults, null);
    expect(t.source).toMatch(/ordering/);
    const det = ['ppocr-det', 'ppocr-det-int8w', 'ppocr-det-int8', 'ppocr-det-fp16'].map((d) => t.ocr({ ...defaults, det: d }));
    expect(det).toEqual([...det].sort((a, b) => b - a));
    expect(new Set(det).size).toBe(4);
    const sides = [960, 800, 640, 480, 320].map((s) => t.ocr({ ...defaults, maxSide: s }));
    expect(sides).toEqual([...sides].sort((a, b) => b - a));
    expect(t.model('ppocr-rec')).toBeGreaterThan(t.model('ppocr-rec-int8'));
    expect(t.model('ppocr-cls')).toBeGreaterThan(t.model('ppocr-cls-int8'));
  });

  it('with profiles, uses measured word recall, interpolates sides and combines detector and recogniser effects', () => {
    const t = accuracyTable(manifest, defaults, { profiles, path: 'fixture' });
    expect(t.source).toMatch(/measured profiles/);
    expect(t.ocr(defaults)).toBe(0.8);
    expect(t.ocr({ ...defaults, det: 'ppocr-det-int8' })).toBe(0.78);
    expect(t.ocr({ ...defaults, maxSide: 720 })).toBeCloseTo(0.7);
    expect(t.ocr({ ...defaults, maxSide: 1280 })).toBe(0.8);
    expect(t.ocr({ ...defaults, maxSide: 320 })).toBe(0.6);
    // int8 detector with int8 recogniser was not measured together: 0.78 + (0.77 - 0.8).
    expect(t.ocr({ ...defaults, det: 'ppocr-det-int8', rec: 'ppocr-rec-int8' })).toBeCloseTo(0.75);
    // A variant absent from the profiles steps below the measured default.
    expect(t.ocr({ ...defaults, det: 'ppocr-det-fp16' })).toBeLessThan(0.8);
    expect(t.model('ppocr-det-int8')).toBe(0.78);
    expect(t.model('ppocr-rec-int8')).toBe(0.77);
  });

  describe('loading profiles.json', () => {
    const root = mkdtempSync(join(tmpdir(), 'tandem-adapt-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('reads the repository copy, else the tracked one beside the repository, else none', () => {
      const repo = join(root, 'a', 'repository');
      mkdirSync(repo, { recursive: true });
      expect(loadProfiles(repo)).toBeNull();
      writeFileSync(join(root, 'a', 'profiles.json'), JSON.stringify(profiles));
      expect(loadProfiles(repo)?.path).toBe(join(root, 'a', 'profiles.json'));
      writeFileSync(join(repo, 'profiles.json'), JSON.stringify(profiles));
      expect(loadProfiles(repo)?.path).toBe(join(repo, 'profiles.json'));
    });

    it('refuses a profiles.json that does not parse, naming the field', () => {
      const repo = join(root, 'b', 'repository');
      mkdirSync(repo, { recursive: true });
      writeFileSync(
        join(repo, 'profiles.json'),
        JSON.stringify({ ...profiles, accuracy: [{ det: 'nope', maxSide: 960, rec: 'ppocr-rec@fp32', wordRecall: 0.5 }] }),
      );
      expect(() => loadProfiles(repo)).toThrow(/accuracy\[0\]\.det/);
    });
  });
});
