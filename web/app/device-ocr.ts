import * as Comlink from 'comlink';
import { ocrError } from '../../core/ocr/errors';
import type { FloatTensor } from '../../core/ocr/types';
import type {
  DetectedImage,
  DeviceOcrOptions,
  DeviceOcrResult,
  LoadInfo,
  LoadOptions,
  LoadProgress,
  OcrWorkerApi,
  ReencodeResult,
  SplitOptions,
  SplitResult,
  WarmUpOptions,
  WarmUpResult,
} from '../worker/api';

/**
 * The page's handle on the OCR worker. Terminating the worker is the only way to give its WASM memory back,
 * and to change the thread count or backend, so `restart` does exactly that.
 */
export class DeviceOcr {
  private worker: Worker | undefined;
  private api: Comlink.Remote<OcrWorkerApi> | undefined;
  private loadInfo: LoadInfo | undefined;
  private nextRunId = 1;

  get info(): LoadInfo | undefined {
    return this.loadInfo;
  }

  async load(options: LoadOptions = {}, onProgress?: (progress: LoadProgress) => void): Promise<LoadInfo> {
    const api = this.remote();
    this.loadInfo = await api.load(options, onProgress ? Comlink.proxy(onProgress) : undefined);
    return this.loadInfo;
  }

  /** `signal` stops the run in the worker before its next model run, freeing the device for other work. */
  ocr(image: Blob, options: DeviceOcrOptions = {}, signal?: AbortSignal): Promise<DeviceOcrResult> {
    return this.asRun(signal, (api, runId) => api.ocr(image, { ...options, runId }));
  }

  detect(image: Blob, options: DeviceOcrOptions = {}, signal?: AbortSignal): Promise<DetectedImage> {
    return this.asRun(signal, (api, runId) => api.detect(image, { ...options, runId }));
  }

  /** `signal` also withdraws the share of lines sent to the edge. */
  recognizeSplit(id: number, options: SplitOptions, signal?: AbortSignal): Promise<SplitResult> {
    return this.asRun(signal, (api, runId) => api.recognizeSplit(id, { ...options, runId }));
  }

  reencode(image: Blob, maxSide: number, quality: number): Promise<ReencodeResult> {
    return this.remote().reencode(image, maxSide, quality);
  }

  warmUp(options: WarmUpOptions): Promise<WarmUpResult> {
    return this.remote().warmUp(options);
  }

  /** Raw inference on one loaded model. The input's buffer moves to the worker (it is unusable here afterwards). */
  run(modelName: string, input: FloatTensor): Promise<FloatTensor> {
    return this.remote().run(modelName, Comlink.transfer(input, [input.data.buffer]));
  }

  /** Frees the sessions but keeps the worker (and its compiled WASM) for a later load. */
  async release(): Promise<void> {
    await this.api?.release();
    this.loadInfo = undefined;
  }

  /** Ends the worker and frees everything it held; the next call starts a fresh one. */
  terminate(): void {
    this.api?.[Comlink.releaseProxy]();
    this.worker?.terminate();
    this.worker = undefined;
    this.api = undefined;
    this.loadInfo = undefined;
  }

  /** A worker call that `signal` cancels (by run number) before its next model run. */
  private async asRun<T>(signal: AbortSignal | undefined, call: (api: Comlink.Remote<OcrWorkerApi>, runId?: number) => Promise<T>): Promise<T> {
    const api = this.remote();
    if (signal === undefined) return call(api);
    // An abort signalled before the run starts would never fire its listener: the run would go on unwanted.
    if (signal.aborted) throw ocrError('OcrCancelled', 'This OCR run was cancelled before it started: its answer is no longer wanted.');
    const runId = this.nextRunId++;
    const cancel = () => void api.cancel(runId);
    signal.addEventListener('abort', cancel, { once: true });
    try {
      return await call(api, runId);
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }

  private remote(): Comlink.Remote<OcrWorkerApi> {
    if (!this.api) {
      this.worker = new Worker(new URL('../worker/ocr.worker.ts', import.meta.url), { type: 'module', name: 'tandem-ocr' });
      this.api = Comlink.wrap<OcrWorkerApi>(this.worker);
    }
    return this.api;
  }
}
