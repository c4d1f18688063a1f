import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ortWeb from 'onnxruntime-web';
import { ctcGreedyDecode, pipelineConfigFromManifest, detTensor, type PipelineConfig } from '../../core/ocr';
import type { Manifest } from '../../core/models/manifest';
import { renderTextImage } from '../../test-support/text-image';
import { loadDictionary, loadManifest, REPOSITORY_DIR } from '../../test-support/ort-node-infer';
import { calibrationFeeds, type Feed } from './calibration-set';
import { maskIoU, maxAbsDiff, openSession, runFirst } from './compare';

async function runWeb(bytes: Uint8Array, feed: Feed): Promise<Float32Array> {
  const session = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const out = await session.run({ [session.inputNames[0]]: new ortWeb.Tensor('float32', feed.data, feed.dims) });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

/** The variants are for phones too: they must load and compute the same on onnxruntime-web's WASM backend. */
describe('variants on onnxruntime-web (WASM, in Node)', () => {
  let manifest: Manifest;
  let config: PipelineConfig;
  const file = (name: string) => new Uint8Array(readFileSync(join(REPOSITORY_DIR, manifest.models.find((m) => m.name === name)!.file.path)));
  beforeAll(() => {
    ortWeb.env.wasm.numThreads = 1;
    manifest = loadManifest();
    config = pipelineConfigFromManifest(manifest, loadDictionary(manifest, 'ppocr-rec'));
  });

  it('static int8 detector: same text mask as on onnxruntime-node and as fp32', async () => {
    const page = await renderTextImage({ lines: ['Phones run int8 too', 'WASM 2026'], width: 480, height: 240 });
    const feed = detTensor(page.rgba, config.det, 320).tensor;
    const web = await runWeb(file('ppocr-det-int8'), feed);
    const node = (await runFirst(await openSession(file('ppocr-det-int8')), feed)).data;
    const fp32 = (await runFirst(await openSession(file('ppocr-det')), feed)).data;
    // Integer kernels differ between the x86 and WASM builds, so a few border pixels flip; the mask stays put.
    expect(maskIoU(node, web)).toBeGreaterThan(0.98);
    expect(maskIoU(fp32, web)).toBeGreaterThan(0.95);
  });

  it('static int8 and fp16 recognisers: same text as on onnxruntime-node', async () => {
    const [batch] = await calibrationFeeds('rec');
    const one = { data: batch.data.subarray(0, batch.data.length / batch.dims[0]), dims: [1, ...batch.dims.slice(1)] };
    const text = (probs: Float32Array) => {
      const classes = config.charset.length;
      return ctcGreedyDecode(probs, probs.length / classes, classes, config.charset).text;
    };
    for (const name of ['ppocr-rec-int8', 'ppocr-rec-fp16']) {
      const web = await runWeb(file(name), one);
      const node = (await runFirst(await openSession(file(name)), one)).data;
      expect(text(node), name).toMatch(/^Receipt ?2026-03-14 ?09:41$/);
      expect(text(web), name).toBe(text(node));
      // Integer GEMM kernels differ between the x86 and WASM builds; probabilities move (measured up to 0.14
      // depending on the calibration), the decoded text above must not.
      expect(maxAbsDiff(node, web), name).toBeLessThan(0.25);
    }
  });
});
