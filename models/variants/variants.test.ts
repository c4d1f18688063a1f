import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ort from 'onnxruntime-node';
import { createOcrPipeline, pipelineConfigFromManifest, type PipelineConfig } from '../../core/ocr';
import type { OcrResult, OcrRole } from '../../core/ocr/types';
import { renderTextImage, type TextImage } from '../../test-support/text-image';
import { loadDictionary, loadManifest, REPOSITORY_DIR } from '../../test-support/ort-node-infer';
import { readOnnxIo } from '../build/onnx-io';
import { openSession, sessionsInfer } from './compare';
import { VARIANTS } from './variants';

const roles: OcrRole[] = ['det', 'cls', 'rec'];
const LINES = ['The quick brown fox jumps', 'invoice #A-1234', 'Bahnhofstrasse 7, Zurich', 'Total: 42.50 EUR'];
const noSpaces = (t: string) => t.replace(/ /g, '');

/** Built from the repository's fp32 files by the variant code itself, so the test follows the code, not a stale build. */
async function buildSet(suffix: string, fp32: Record<OcrRole, Uint8Array>): Promise<Record<OcrRole, Uint8Array>> {
  const out = {} as Record<OcrRole, Uint8Array>;
  for (const role of roles) out[role] = (await VARIANTS.find((v) => v.name === `ppocr-${role}-${suffix}`)!.build(fp32[role])).bytes;
  return out;
}

describe('model variants on the product pipeline (onnxruntime-node)', () => {
  const fp32 = {} as Record<OcrRole, Uint8Array>;
  const sessions: ort.InferenceSession[] = [];
  let config: PipelineConfig;
  let page: TextImage;
  let reference: OcrResult;

  async function read(files: Record<OcrRole, Uint8Array>): Promise<OcrResult> {
    const s = {} as Record<OcrRole, ort.InferenceSession>;
    for (const role of roles) sessions.push((s[role] = await openSession(files[role], 'all', 2)));
    return createOcrPipeline(config, sessionsInfer(s), () => performance.now()).run(page.rgba, { maxSide: 640, useCls: true });
  }

  beforeAll(async () => {
    const manifest = loadManifest(); // a clear error when `npm run models` has not run
    config = pipelineConfigFromManifest(manifest, loadDictionary(manifest, 'ppocr-rec'));
    for (const role of roles) fp32[role] = readFileSync(join(REPOSITORY_DIR, `ppocr-${role}`, '1', 'model.onnx'));
    page = await renderTextImage({ lines: LINES, width: 800, height: 420 });
    reference = await read(fp32);
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.release()));
  });

  it('fp32 reads the fixture right up to spaces (PP-OCRv4 places spaces between words unreliably)', () => {
    expect(reference.lines.map((l) => noSpaces(l.text))).toEqual(LINES.map(noSpaces));
  });

  it('int8-weights: at least 3.5× smaller detector and recogniser, same text as fp32', async () => {
    const int8w = await buildSet('int8w', fp32);
    for (const role of ['det', 'rec'] as const) expect(fp32[role].byteLength / int8w[role].byteLength).toBeGreaterThanOrEqual(3.5);
    // The classifier is small enough that graph structure and its per-channel scales weigh in.
    expect(fp32.cls.byteLength / int8w.cls.byteLength).toBeGreaterThan(2.5);
    const result = await read(int8w);
    expect(result.lines.map((l) => l.text)).toEqual(reference.lines.map((l) => l.text));
    result.lines.forEach((l, i) => expect(Math.abs(l.score - reference.lines[i].score)).toBeLessThan(0.05));
  });

  it('fp16: half the size, float32 in and out, same text as fp32', async () => {
    const fp16 = await buildSet('fp16', fp32);
    for (const role of roles) {
      expect(fp16[role].byteLength / fp32[role].byteLength).toBeLessThan(0.52);
      const io = readOnnxIo(fp16[role]);
      expect([...io.inputs, ...io.outputs].map((t) => t.datatype)).toEqual(['FP32', 'FP32']);
    }
    const result = await read(fp16);
    expect(result.lines.map((l) => l.text)).toEqual(reference.lines.map((l) => l.text));
    result.lines.forEach((l, i) => expect(Math.abs(l.score - reference.lines[i].score)).toBeLessThan(0.02));
  });

  it('int8 (static QDQ, as built in the repository): calibrated, opset 13, same text as fp32', async () => {
    const manifest = loadManifest();
    const files = { ...fp32 };
    for (const role of roles) {
      const entry = manifest.models.find((m) => m.name === `ppocr-${role}-int8`);
      expect(entry, `ppocr-${role}-int8 in the manifest`).toBeDefined();
      expect(entry!.variant).toBe('int8');
      expect(entry!.opset).toBe(13);
      expect(entry!.derivation?.calibration?.method).toMatch(/min\/max/);
      files[role] = readFileSync(join(REPOSITORY_DIR, entry!.file.path));
    }
    const result = await read(files);
    // Spaces between words are where PP-OCRv4 is unstable (here fp32 reads "42.50EUR", int8 "42.50 EUR"); the
    // characters must all agree.
    expect(result.lines.map((l) => noSpaces(l.text))).toEqual(reference.lines.map((l) => noSpaces(l.text)));
  });
});
