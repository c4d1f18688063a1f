/**
 * An InferFn over onnxruntime-web's WASM backend, run in Node (`onnxruntime-web` resolves to its Node build):
 * the phone's runtime and kernels, measured off the phone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import type { FloatTensor, InferFn, OcrRole } from '../core/ocr/types';
import { pipelineConfigFromManifest, type ConfigOverrides } from '../core/ocr/config';
import { loadDictionary, loadManifest, REPOSITORY_DIR, type OrtNodeOcr } from './ort-node-infer';

export async function createOrtWebOcr(opts: { repositoryDir?: string; numThreads?: number; overrides?: ConfigOverrides } = {}): Promise<OrtNodeOcr> {
  const dir = opts.repositoryDir ?? REPOSITORY_DIR;
  const manifest = loadManifest(dir);
  const recName = opts.overrides?.models?.rec ?? 'ppocr-rec';
  const config = pipelineConfigFromManifest(manifest, loadDictionary(manifest, recName, dir), opts.overrides);
  ort.env.wasm.numThreads = opts.numThreads ?? 1;
  const sessions = {} as Record<OcrRole, ort.InferenceSession>;
  for (const role of ['det', 'cls', 'rec'] as OcrRole[]) {
    const model = manifest.models.find((m) => m.name === config.models[role])!;
    sessions[role] = await ort.InferenceSession.create(new Uint8Array(readFileSync(join(dir, model.file.path))), {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
  }
  const infer: InferFn = async (role, input) => {
    const session = sessions[role];
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) });
    const t = out[session.outputNames[0]];
    const result: FloatTensor = { data: t.data as Float32Array, dims: [...t.dims] };
    return result;
  };
  return {
    infer,
    config,
    manifest,
    async release() {
      await Promise.all(Object.values(sessions).map((s) => s.release()));
    },
  };
}
