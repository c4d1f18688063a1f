/**
 * The device side of Tandem: owns onnxruntime-web (nothing else imports it), reads models from
 * IndexedDB, decodes photos and runs the shared OCR pipeline. Exposed to the page with comlink.
 */
import * as Comlink from 'comlink';
import type { ManifestModel } from '../../core/models/manifest';
import { createOcrPipeline, pipelineConfigFromManifest } from '../../core/ocr';
import type { OcrPipeline } from '../../core/ocr';
import type { FloatTensor, OcrResult, Point } from '../../core/ocr/types';
import { codedError } from '../coded-error';
import { ModelStore } from '../model-store';
import type { DeviceOcrOptions, DeviceOcrResult, LoadInfo, LoadOptions, LoadProgress, OcrWorkerApi, ReencodeResult } from './api';
import { defaultThreads, startSessions } from './backend';
import { decodeImage, reencodeJpeg } from './decode';
import { pickModels } from './model-choice';
import type { SessionSet } from './sessions';

/** Longest side photos are decoded at; detection runs smaller anyway, recognition crops stay sharp. */
const DECODE_MAX_SIDE = 4096;

interface Loaded {
  info: LoadInfo;
  sessions: SessionSet;
  pipeline: OcrPipeline;
}

let loading: { key: string; promise: Promise<Loaded> } | undefined;
/** Backend choice and threads of the first load: ORT fixes its runtime build and thread pool at first use. */
let runtimeKey: string | undefined;

async function startup(options: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<Loaded> {
  const started = performance.now();
  const store = await ModelStore.open({ modelsBaseUrl: options.modelsBaseUrl });
  try {
    const variant = options.variant ?? 'fp32';
    const ensured = await store.ensure((manifest) => Object.values(pickModels(manifest, variant)), onProgress);
    const picked = pickModels(ensured.manifest, variant);
    const dictionary = await readDictionary(store, picked.rec);
    const modelsDone = performance.now();
    const threads = options.threads ?? defaultThreads();
    const { sessions, webgpuSkipped } = await startSessions(options.backend ?? 'auto', threads, ensured.models, store);
    const config = pipelineConfigFromManifest(ensured.manifest, dictionary, {
      models: { det: picked.det.name, cls: picked.cls.name, rec: picked.rec.name },
    });
    const pipeline = createOcrPipeline(config, (role, input) => sessions.run(config.models[role], input), () => performance.now());
    const info: LoadInfo = {
      backend: sessions.backend,
      threads: sessions.backend === 'wasm' ? threads : 1,
      crossOriginIsolated: self.crossOriginIsolated,
      webgpuSkipped,
      models: ensured.models.map(({ name, version, variant }) => ({ name, version, variant })),
      modelSource: ensured.source,
      downloadedBytes: ensured.downloadedBytes,
      timings: { modelsMs: modelsDone - started, sessionsMs: performance.now() - modelsDone },
    };
    return { info, sessions, pipeline };
  } finally {
    store.close();
  }
}

async function readDictionary(store: ModelStore, rec: ManifestModel): Promise<string> {
  const dictionary = rec.assets.dictionary;
  if (!dictionary) throw codedError('ManifestInvalid', `The manifest lists no dictionary for ${rec.name} (assets.dictionary).`);
  return store.readText(dictionary.sha256);
}

async function loaded(): Promise<Loaded> {
  if (!loading) throw codedError('NotLoaded', 'Models are not loaded yet: call load() first.');
  return loading.promise;
}

function scaleBack(result: OcrResult, scale: number, original: { width: number; height: number }): OcrResult {
  if (scale === 1) return result;
  const up = (p: Point): Point => [p[0] / scale, p[1] / scale];
  return {
    ...result,
    image: original,
    lines: result.lines.map((line) => ({ ...line, box: [up(line.box[0]), up(line.box[1]), up(line.box[2]), up(line.box[3])] })),
  };
}

const api: OcrWorkerApi = {
  load(options = {}, onProgress) {
    const runtime = JSON.stringify([options.backend ?? 'auto', options.threads ?? defaultThreads()]);
    const key = JSON.stringify([runtime, options.variant ?? 'fp32', options.modelsBaseUrl ?? '']);
    if (loading?.key === key) return loading.promise.then((l) => l.info);
    if (loading || (runtimeKey !== undefined && runtimeKey !== runtime)) {
      return Promise.reject(codedError('ReloadNeeded', 'This worker already runs other load options; release it, or start a new worker to change backend or threads.'));
    }
    runtimeKey = runtime;
    const promise = startup(options, onProgress);
    loading = { key, promise };
    // A failed load must not stick: the next call retries (e.g. after coming back online).
    promise.catch(() => {
      if (loading?.promise === promise) loading = undefined;
    });
    return promise.then((l) => l.info);
  },

  async ocr(image: Blob, options: DeviceOcrOptions = {}): Promise<DeviceOcrResult> {
    const { pipeline, info } = await loaded();
    const decodeStarted = performance.now();
    const decoded = await decodeImage(image, DECODE_MAX_SIDE);
    const decodeMs = performance.now() - decodeStarted;
    const result = scaleBack(await pipeline.run(decoded.rgba, options), decoded.scale, decoded.original);
    return { ...result, device: { backend: info.backend, threads: info.threads, decodeMs } };
  },

  async reencode(image: Blob, maxSide: number, quality: number): Promise<ReencodeResult> {
    const started = performance.now();
    const out = await reencodeJpeg(image, maxSide, quality);
    return { ...out, ms: performance.now() - started };
  },

  async run(modelName: string, input: FloatTensor): Promise<FloatTensor> {
    const { sessions } = await loaded();
    const output = await sessions.run(modelName, input);
    return Comlink.transfer(output, [output.data.buffer]);
  },

  async release(): Promise<void> {
    const current = loading;
    loading = undefined;
    if (current) await (await current.promise.catch(() => undefined))?.sessions.release();
  },
};

// onnxruntime starts its WASM threads as module workers of the chunk that holds it, and that chunk imports
// shared bundler helpers from this entry, so this module also runs in those threads: they must not answer comlink.
if (!self.name.startsWith('em-pthread')) Comlink.expose(api);
