/**
 * The device side of Tandem: owns onnxruntime-web (nothing else imports it), reads models from
 * IndexedDB, decodes photos and runs the shared OCR pipeline. Exposed to the page with comlink.
 */
import * as Comlink from 'comlink';
import type { ManifestModel } from '../../core/models/manifest';
import { createOcrPipeline, pipelineConfigFromManifest, takesCompactCrops } from '../../core/ocr';
import type { LineNormalisation } from '../../core/ocr/compact-crops';
import type { OcrPipeline } from '../../core/ocr';
import type { FloatTensor, OcrResult, Point, RgbaImage } from '../../core/ocr/types';
import { codedError, hasCode } from '../coded-error';
import { ModelStore } from '../model-store';
import type { Detection } from '../../core/ocr/pipeline';
import type { OcrLine } from '../../core/ocr/types';
import type { Quad } from '../../core/ocr/geometry';
import type {
  DetectedImage,
  DeviceOcrOptions,
  DeviceOcrResult,
  LoadInfo,
  LoadOptions,
  LoadProgress,
  OcrWorkerApi,
  ReencodeResult,
  SplitResult,
  WarmUpOptions,
  WarmUpResult,
} from './api';
import { edgeRecInfer, type EdgeModel, type EdgeRecStats } from './edge-rec';
import type { EdgeError } from '../edge-client/ocr';
import { defaultThreads, startSessions } from './backend';
import { decodeImage, reencodeJpeg } from './decode';
import { DEFAULT_DEVICE_VARIANT, pickModels } from './model-choice';
import type { SessionSet } from './sessions';

/** Longest side photos are decoded at; detection runs smaller anyway, recognition crops stay sharp. */
const DECODE_MAX_SIDE = 4096;

interface Loaded {
  info: LoadInfo;
  sessions: SessionSet;
  pipeline: OcrPipeline;
  /** The recogniser as the edge serves it, for split recognition. */
  rec: EdgeModel;
}

interface Pending {
  detections: Detection[];
  detInput: { width: number; height: number };
  scale: number;
  original: { width: number; height: number };
  decodeMs: number;
  timings: DetectedImage['timings'];
}

/** detect() results waiting for recognizeSplit(); a few at most (one per request in flight). */
const pending = new Map<number, Pending>();
/** Runs under way that the page can cancel, by runId (ocr, detect, recognizeSplit); aborted once cancelled. */
const activeRuns = new Map<number, AbortController>();
let nextId = 1;
const MAX_PENDING = 4;

let loading: { key: string; promise: Promise<Loaded> } | undefined;
/** Backend choice and threads of the first load: ORT fixes its runtime build and thread pool at first use. */
let runtimeKey: string | undefined;

/**
 * The recogniser split recognition asks the edge for: the compact one when the edge serves it with the same
 * dictionary (8-bit crops up, CTC steps down), else the device's own recogniser with float32 crops.
 */
function edgeRecModel(models: readonly ManifestModel[], own: ManifestModel, normalisation: LineNormalisation): EdgeModel {
  const dictionary = own.assets.dictionary?.sha256;
  const compact = models.find((m) => m.task === 'text-recognition' && takesCompactCrops(m) && m.assets.dictionary?.sha256 === dictionary);
  if (compact) return { name: compact.name, inputs: compact.inputs.map((t) => t.name), output: compact.outputs[0]!.name, compact: normalisation };
  return { name: own.name, inputs: [own.inputs[0]!.name], output: own.outputs[0]!.name };
}

async function startup(options: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<Loaded> {
  const started = performance.now();
  const store = await ModelStore.open({ modelsBaseUrl: options.modelsBaseUrl });
  try {
    const variant = options.variant ?? DEFAULT_DEVICE_VARIANT;
    const ensured = await store.ensure((manifest) => Object.values(pickModels(manifest, variant)), onProgress);
    const picked = pickModels(ensured.manifest, variant);
    const dictionary = await readDictionary(store, picked.rec);
    const modelsDone = performance.now();
    const threads = options.threads ?? defaultThreads();
    const { sessions, webgpuSkipped, runtimeUrls } = await startSessions(options.backend ?? 'auto', threads, ensured.models, store);
    const config = pipelineConfigFromManifest(ensured.manifest, dictionary, {
      models: { det: picked.det.name, cls: picked.cls.name, rec: picked.rec.name },
    });
    const pipeline = createOcrPipeline(
      config,
      (role, input) => sessions.run(config.models[role], input),
      () => performance.now(),
    );
    const info: LoadInfo = {
      backend: sessions.backend,
      threads: sessions.backend === 'wasm' ? threads : 1,
      crossOriginIsolated: self.crossOriginIsolated,
      webgpuSkipped,
      runtimeUrls: [self.location.href, ...runtimeUrls],
      models: ensured.models.map(({ name, version, variant }) => ({ name, version, variant })),
      modelSource: ensured.source,
      downloadedBytes: ensured.downloadedBytes,
      timings: { modelsMs: modelsDone - started, sessionsMs: performance.now() - modelsDone },
    };
    const rec = edgeRecModel(ensured.manifest.models, picked.rec, config.rec);
    return { info, sessions, pipeline, rec };
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

/**
 * Runs `work` as cancellable run `runId` (when the page gave one): `cancelled` is the pipeline's question before each
 * model run, `signal` aborts with the cancel, for requests the run makes.
 */
async function asRun<T>(runId: number | undefined, work: (run: { cancelled?: () => Promise<boolean>; signal?: AbortSignal }) => Promise<T>): Promise<T> {
  if (runId === undefined) return work({});
  const controller = new AbortController();
  activeRuns.set(runId, controller);
  try {
    return await work({ cancelled: async () => (await nextTask(), controller.signal.aborted), signal: controller.signal });
  } finally {
    activeRuns.delete(runId);
  }
}

/**
 * Resolves in a later task, after the messages already queued for this worker. A WASM model run blocks the worker and
 * its promise settles in a microtask, so a whole OCR pass never gave the page's cancel message a turn: a race the
 * edge had won held the phone 6-10 s longer, and the next photo's re-encode waited behind it.
 */
function nextTask(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/** A mid-grey image: inference time does not depend on what the pixels show. */
function blank(width: number, height: number): RgbaImage {
  return { data: new Uint8ClampedArray(width * height * 4).fill(128), width, height };
}

const api: OcrWorkerApi = {
  load(options = {}, onProgress) {
    const runtime = JSON.stringify([options.backend ?? 'auto', options.threads ?? defaultThreads()]);
    const key = JSON.stringify([runtime, options.variant ?? DEFAULT_DEVICE_VARIANT, options.modelsBaseUrl ?? '']);
    if (loading?.key === key) return loading.promise.then((l) => l.info);
    if (loading || (runtimeKey !== undefined && runtimeKey !== runtime)) {
      return Promise.reject(
        codedError('ReloadNeeded', 'This worker already runs other load options; release it, or start a new worker to change backend or threads.'),
      );
    }
    runtimeKey = runtime;
    // A stored file found damaged is dropped by the store (a backend fallback may then find it missing); one more
    // start downloads it again.
    const promise = startup(options, onProgress).catch((error: unknown) => {
      if (!hasCode(error, 'StoredModelCorrupt') && !hasCode(error, 'ModelMissing')) throw error;
      console.warn((error as Error).message);
      return startup(options, onProgress);
    });
    loading = { key, promise };
    // A failed load must not stick: the next call retries (e.g. after coming back online).
    promise.catch(() => {
      if (loading?.promise === promise) loading = undefined;
    });
    return promise.then((l) => l.info);
  },

  ocr(image: Blob, options: DeviceOcrOptions = {}): Promise<DeviceOcrResult> {
    const { runId, ...runOptions } = options;
    return asRun(runId, async ({ cancelled }) => {
      const { pipeline, info } = await loaded();
      const decodeStarted = performance.now();
      const decoded = await decodeImage(image, DECODE_MAX_SIDE);
      const decodeMs = performance.now() - decodeStarted;
      const result = scaleBack(await pipeline.run(decoded.rgba, { ...runOptions, cancelled }), decoded.scale, decoded.original);
      return { ...result, device: { backend: info.backend, threads: info.threads, decodeMs } };
    });
  },

  cancel(runId: number): void {
    activeRuns.get(runId)?.abort();
  },

  detect(image: Blob, options: DeviceOcrOptions = {}): Promise<DetectedImage> {
    const { runId, ...runOptions } = options;
    return asRun(runId, async ({ cancelled }) => {
      const { pipeline } = await loaded();
      const decodeStarted = performance.now();
      const decoded = await decodeImage(image, DECODE_MAX_SIDE);
      const decodeMs = performance.now() - decodeStarted;
      const det = await pipeline.detect(decoded.rgba, { ...runOptions, cancelled });
      const id = nextId++;
      pending.set(id, { detections: det.detections, detInput: det.detInput, scale: decoded.scale, original: decoded.original, decodeMs, timings: det.timings });
      for (const old of pending.keys()) if (pending.size > MAX_PENDING) pending.delete(old);
      return { id, lines: det.detections.length, decodeMs, timings: det.timings };
    });
  },

  recognizeSplit(id, options): Promise<SplitResult> {
    return asRun(options.runId, async ({ cancelled, signal }) => {
      const { pipeline, info, rec } = await loaded();
      const p = pending.get(id);
      if (!p) throw codedError('UnknownDetection', `No detection ${id} is waiting for recognition (already read, or dropped).`);
      pending.delete(id);
      const crops = p.detections.map((d) => d.crop);
      const edgeCount = Math.min(crops.length, Math.max(0, Math.round(crops.length * options.edgeShare)));
      const deviceCrops = crops.slice(0, crops.length - edgeCount);
      const edgeCrops = crops.slice(crops.length - edgeCount);
      const started = performance.now();
      const stats: EdgeRecStats = { requests: 0, elapsedMs: 0, uploadBytes: 0, downloadBytes: 0, serverMs: 0, queueMs: 0 };
      const deadline = started + options.budgetMs;
      // A late edge is given up on when the device could no longer read its crops in time either; at least 2 s.
      // A cancelled run withdraws its edge requests too.
      const timeout = AbortSignal.timeout(Number.isFinite(options.budgetMs) ? Math.max(2_000, 1.5 * options.budgetMs) : 30_000);
      const abort = signal ? AbortSignal.any([timeout, signal]) : timeout;
      const remote = createOcrPipeline(pipeline.config, edgeRecInfer(options.baseUrl ?? self.location.origin, rec, deadline, abort, stats), () =>
        performance.now(),
      );
      const onDevice = (async () => {
        const t0 = performance.now();
        const r = await pipeline.recognize(deviceCrops, { cancelled });
        return { texts: r.texts, ms: performance.now() - t0 };
      })();
      const onEdge =
        edgeCrops.length > 0
          ? remote.recognize(edgeCrops).then(
              (r) => r.texts,
              (error: unknown) => error as Error,
            )
          : Promise.resolve([]);
      const [device, edge] = await Promise.all([onDevice, onEdge]);
      let deviceRecMs = device.ms;
      let edgeTexts = edge;
      let edgeFailed: SplitResult['split']['edgeFailed'];
      if (edge instanceof Error) {
        const { status, predictedMs, budgetMs, retryAfterMs } = edge as EdgeError;
        edgeFailed = { code: edge.name, message: edge.message, status, predictedMs, budgetMs, retryAfterMs };
        const t0 = performance.now();
        edgeTexts = (await pipeline.recognize(edgeCrops, { cancelled })).texts;
        deviceRecMs += performance.now() - t0;
      }
      const texts = [...device.texts, ...(edgeTexts as typeof device.texts)];
      const lines: OcrLine[] = [];
      p.detections.forEach((d, i) => {
        const t = texts[i]!;
        const text = t.text.trim();
        if (!text || t.score < pipeline.config.dropScore) return;
        lines.push({ box: d.box.map((q) => [q[0], q[1]]) as Quad, text, score: t.score, boxScore: d.score, rotated: t.rotated });
      });
      const recMs = performance.now() - started;
      const total = p.timings.preprocess + p.timings.det + p.timings.postprocess + recMs;
      const result = scaleBack(
        {
          lines,
          timings: { ...p.timings, cls: 0, rec: recMs, total },
          detInput: p.detInput,
          image: { width: Math.round(p.original.width * p.scale), height: Math.round(p.original.height * p.scale) },
        },
        p.scale,
        p.original,
      );
      return {
        ...result,
        device: { backend: info.backend, threads: info.threads, decodeMs: p.decodeMs },
        split: {
          deviceLines: deviceCrops.length + (edgeFailed ? edgeCrops.length : 0),
          edgeLines: edgeFailed ? 0 : edgeCrops.length,
          deviceRecMs,
          edge: stats.requests > 0 ? stats : undefined,
          edgeFailed,
        },
      };
    });
  },

  async reencode(image: Blob, maxSide: number, quality: number): Promise<ReencodeResult> {
    const started = performance.now();
    const out = await reencodeJpeg(image, maxSide, quality);
    return { ...out, ms: performance.now() - started };
  },

  async warmUp(options: WarmUpOptions): Promise<WarmUpResult> {
    const { pipeline } = await loaded();
    const photo = blank(options.width, options.height);
    const lineHeight = pipeline.config.rec.height;
    // Three float32 channels per pixel; at least square (narrower crops are padded to the recogniser's minimum anyway).
    const line = blank(Math.max(lineHeight, Math.round(options.lineTensorBytes / (3 * 4 * lineHeight))), lineHeight);
    const crops = Array.from({ length: Math.max(1, options.lines) }, () => line);
    // The first runs pay for session start-up (memory, kernels); only the second ones say how fast the device is.
    await pipeline.detect(photo, { maxSide: options.maxSide });
    const det = await pipeline.detect(photo, { maxSide: options.maxSide });
    await pipeline.recognize(crops.slice(0, 1));
    const rec = await pipeline.recognize(crops);
    return {
      maxSide: options.maxSide,
      image: { width: photo.width, height: photo.height },
      detInput: det.detInput,
      timings: { preprocess: det.timings.preprocess, det: det.timings.det },
      lines: crops.length,
      recMs: rec.timings.rec,
    };
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
