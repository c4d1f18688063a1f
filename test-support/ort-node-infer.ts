/** An InferFn over onnxruntime-node sessions loaded from models/repository, for Node tests and tools. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Manifest } from '../core/models/manifest';
import type { FloatTensor, InferFn, OcrRole } from '../core/ocr/types';
import { pipelineConfigFromManifest, type ConfigOverrides, type PipelineConfig } from '../core/ocr/config';
import { REPO_ROOT } from './shared-set';
import { takesCompactCrops, toCompactCrops } from '../core/ocr/compact-crops';

export const REPOSITORY_DIR = resolve(REPO_ROOT, 'models', 'repository');

export interface OrtNodeOcr {
  infer: InferFn;
  config: PipelineConfig;
  manifest: Manifest;
  release(): Promise<void>;
}

export function loadManifest(repositoryDir = REPOSITORY_DIR): Manifest {
  try {
    return JSON.parse(readFileSync(join(repositoryDir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (e) {
    const err = new Error(`Cannot read ${join(repositoryDir, 'manifest.json')}: ${(e as Error).message}. Run \`npm run models\` first.`);
    err.name = 'ModelRepositoryMissing';
    throw err;
  }
}

export function loadDictionary(manifest: Manifest, recName: string, repositoryDir = REPOSITORY_DIR): string {
  const rec = manifest.models.find((m) => m.name === recName);
  const dict = rec?.assets.dictionary;
  if (!dict) {
    const err = new Error(`Model "${recName}" has no dictionary asset in the manifest.`);
    err.name = 'ModelRepositoryMissing';
    throw err;
  }
  return readFileSync(join(repositoryDir, dict.path), 'utf8');
}

export async function createOrtNodeOcr(opts: { repositoryDir?: string; intraOpNumThreads?: number; overrides?: ConfigOverrides } = {}): Promise<OrtNodeOcr> {
  const dir = opts.repositoryDir ?? REPOSITORY_DIR;
  const manifest = loadManifest(dir);
  // Resolve names first with a placeholder dictionary, then load the recogniser's own dictionary.
  const recName =
    opts.overrides?.models?.rec ??
    manifest.models.find((m) => m.name === 'ppocr-rec')?.name ??
    manifest.models.find((m) => m.task === 'text-recognition')?.name ??
    'ppocr-rec';
  const config = pipelineConfigFromManifest(manifest, loadDictionary(manifest, recName, dir), opts.overrides);
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: opts.intraOpNumThreads ?? 2,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  const sessions = {} as Record<OcrRole, ort.InferenceSession>;
  for (const role of ['det', 'cls', 'rec'] as OcrRole[]) {
    const model = manifest.models.find((m) => m.name === config.models[role])!;
    sessions[role] = await ort.InferenceSession.create(join(dir, model.file.path), sessionOptions);
  }
  // The compact recogniser takes the batch as 8-bit YCbCr 4:2:0 (core/ocr/compact-crops), as split recognition sends it.
  const compactRec = takesCompactCrops(manifest.models.find((m) => m.name === config.models.rec)!);
  const infer: InferFn = async (role, input) => {
    const session = sessions[role];
    let feeds: Record<string, ort.Tensor>;
    if (role === 'rec' && compactRec) {
      const { luma, chroma } = toCompactCrops(input, config.rec);
      feeds = {
        [session.inputNames[0]]: new ort.Tensor('uint8', luma.data, luma.dims),
        [session.inputNames[1]]: new ort.Tensor('uint8', chroma.data, chroma.dims),
      };
    } else {
      feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) };
    }
    const out = await session.run(feeds);
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
