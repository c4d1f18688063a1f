import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packCtcSteps } from '../../core/ocr/ctc-decode';
import { renderTextImage } from '../../test-support/text-image';
import { readFileSync } from 'node:fs';
import { lineBatchTensor } from '../../core/ocr/preprocess';
import { pipelineConfigFromManifest } from '../../core/ocr/config';
import { loadRepository, workerModels } from '../model-repository';
import { MODEL_DIR } from '../test/paths';
import { SessionPool } from './pool';

const BASE = ['ppocr-det', 'ppocr-cls', 'ppocr-rec'];
const REC_OUT = 'softmax_11.tmp_0';

describe('recognition outputs reduced where the model ran', () => {
  let pool: SessionPool;
  const repo = loadRepository(MODEL_DIR);
  const rec = repo.models.get('ppocr-rec')!;
  const config = pipelineConfigFromManifest(repo.manifest, readFileSync(repo.files.get(rec.assets.dictionary!.path)!.absolutePath, 'utf8'));
  beforeAll(async () => {
    pool = await SessionPool.start({
      models: workerModels(repo).filter((m) => BASE.includes(m.name)),
      workers: 1,
      intraOpThreads: 1,
      batching: { maxBatch: 4, maxDelayMs: 20 },
      padWidthModels: ['ppocr-rec'],
    });
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
  });

  it('answers each caller of a shared run with the packed CTC steps of its own full output, a few hundred bytes per line', async () => {
    const lines = ['Invoice 4711', 'Total 93.50 EUR'];
    const crops = await Promise.all(lines.map(async (text) => (await renderTextImage({ lines: [text], width: 320, height: 48 })).rgba));
    const tensors = crops.map((c) => lineBatchTensor([c], config.rec, 320));
    const full = await Promise.all(
      tensors.map((t) => pool.run('ppocr-rec', { x: { datatype: 'FP32', dims: t.dims, data: t.data.slice() } }, { outputs: [REC_OUT] })),
    );
    const reduce = { kind: 'ctc-steps', spaceIndex: config.charset.lastIndexOf(' ') } as const;
    const packed = await Promise.all(
      tensors.map((t) => pool.run('ppocr-rec', { x: { datatype: 'FP32', dims: t.dims, data: t.data.slice() } }, { outputs: [REC_OUT], reduce })),
    );
    for (let i = 0; i < lines.length; i++) {
      const f = full[i].outputs[REC_OUT];
      const [n, steps, classes] = f.dims;
      const p = packed[i].outputs[REC_OUT];
      expect(p.dims).toEqual([1, steps, 3]);
      expect(Array.from(p.data as Float32Array)).toEqual(Array.from(packCtcSteps(f.data as Float32Array, n, steps, classes, reduce.spaceIndex)));
      expect(p.data.byteLength).toBeLessThanOrEqual(1024);
      expect(f.data.byteLength).toBeGreaterThan(1000 * p.data.byteLength);
    }
  });
});
