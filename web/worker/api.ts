/** The worker's comlink surface, shared by the worker (implementation) and the page (typed proxy). Types only. */
import type { FloatTensor, OcrResult } from '../../core/ocr/types';

export type BackendChoice = 'auto' | 'wasm' | 'webgpu';
export type ModelVariant = 'fp32' | 'int8-weights' | 'fp16' | 'int8';
export type Backend = 'wasm' | 'webgpu';

export interface LoadOptions {
  /** 'auto': WebGPU when a hardware adapter exists and the sessions create on it, else WASM. */
  backend?: BackendChoice;
  /** WASM threads; defaults to min(4, cores) when cross-origin isolated, else 1. Fixed for the worker's lifetime. */
  threads?: number;
  /** Which variant of each model to download and run (default DEFAULT_DEVICE_VARIANT in model-choice.ts). */
  variant?: ModelVariant;
  /** Where manifest.json and the model files are served; defaults to /models/ on this origin. */
  modelsBaseUrl?: string;
}

export interface LoadProgress {
  loaded: number;
  total: number;
  file: string;
}

export interface LoadInfo {
  backend: Backend;
  threads: number;
  crossOriginIsolated: boolean;
  /** Why WebGPU was not used, when it was considered. */
  webgpuSkipped?: string;
  /** The worker's script and the runtime's script and WASM: what the device path needs offline. */
  runtimeUrls: string[];
  models: { name: string; version: string; variant: string }[];
  /** Where the model bytes came from this time. */
  modelSource: 'network' | 'cache' | 'offline';
  downloadedBytes: number;
  timings: { modelsMs: number; sessionsMs: number };
}

export interface DeviceOcrOptions {
  maxSide?: number;
  useCls?: boolean;
  /** A number the page picks for this run, so `cancel(runId)` can stop it. */
  runId?: number;
}

export interface DeviceOcrResult extends OcrResult {
  device: {
    backend: Backend;
    threads: number;
    /** createImageBitmap + canvas readback, before the pipeline's own stages. */
    decodeMs: number;
  };
}

export interface ReencodeResult {
  /** JPEG bytes, at most `maxSide` on the longest side. */
  blob: Blob;
  width: number;
  height: number;
  /** Decode, resize and encode together. */
  ms: number;
}

export interface DetectedImage {
  /** Handle for recognizeSplit(); the crops stay in the worker. */
  id: number;
  lines: number;
  decodeMs: number;
  timings: { preprocess: number; det: number; postprocess: number };
}

export interface SplitOptions {
  /** Share of the crops recognised on the edge (0..1); the device reads the rest at the same time. */
  edgeShare: number;
  /** A number the page picks for this run, so `cancel(runId)` can stop it (and its edge requests). */
  runId?: number;
  /** Edge base URL (defaults to this origin). */
  baseUrl?: string;
  /** Time left for recognition; sent to the edge as each run's deadline (Infinity: none). */
  budgetMs: number;
}

export interface SplitResult extends DeviceOcrResult {
  split: {
    deviceLines: number;
    edgeLines: number;
    /** Device recognition time (its crops, and the edge's when the edge failed). */
    deviceRecMs: number;
    edge?: { requests: number; elapsedMs: number; uploadBytes: number; downloadBytes: number; serverMs: number; queueMs: number };
    /** Why the edge's crops were read on the device after all. */
    edgeFailed?: { code: string; message: string; status?: number; predictedMs?: number; budgetMs?: number; retryAfterMs?: number };
  };
}

export interface WarmUpOptions {
  /** Detector longest-side limit the planner predicts for (its default configuration). */
  maxSide: number;
  /** Size of the blank photo detected (the detector's time depends on its input size, not on the content). */
  width: number;
  height: number;
  /** Line crops recognised. */
  lines: number;
  /**
   * Bytes of one line crop as the recogniser's float input (the profiles' `transfer.cropBytesPerLine`), so the
   * crops are as wide as the profiled lines.
   */
  lineTensorBytes: number;
}

/** Stage times of the warm-up's second (warm) run, with the sizes they were measured at. */
export interface WarmUpResult {
  maxSide: number;
  image: { width: number; height: number };
  detInput: { width: number; height: number };
  timings: { preprocess: number; det: number };
  lines: number;
  recMs: number;
}

export interface OcrWorkerApi {
  load(options?: LoadOptions, onProgress?: (progress: LoadProgress) => void): Promise<LoadInfo>;
  ocr(image: Blob, options?: DeviceOcrOptions): Promise<DeviceOcrResult>;
  /**
   * Stops the ocr(), detect() or recognizeSplit() run started with this `runId` before its next model run (it rejects
   * with OcrCancelled); a run that already ended is left alone.
   */
  cancel(runId: number): void;
  /** Detection half of ocr(): boxes and crops kept in the worker for recognizeSplit(). */
  detect(image: Blob, options?: DeviceOcrOptions): Promise<DetectedImage>;
  /** Recognises a detect() result's crops, a share of them on the edge at the same time; frees the handle. */
  recognizeSplit(id: number, options: SplitOptions): Promise<SplitResult>;
  /** Resizes a photo to at most `maxSide` on its longest side and encodes it as JPEG at `quality` (0..1), for upload. */
  reencode(image: Blob, maxSide: number, quality: number): Promise<ReencodeResult>;
  /**
   * Runs detection and recognition once cold (the sessions' one-time costs), then once timed on blank input of
   * the given sizes: how fast this device is before any photo was read.
   */
  warmUp(options: WarmUpOptions): Promise<WarmUpResult>;
  /** One raw inference on a manifest model; the input buffer is moved, not copied. */
  run(modelName: string, input: FloatTensor): Promise<FloatTensor>;
  release(): Promise<void>;
}
