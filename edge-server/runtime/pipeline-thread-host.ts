/**
 * The HTTP-thread side of the OCR pipeline thread: sends an image, answers the thread's model runs with the caller's
 * infer function (which queues them with the request's deadline), and returns the result.
 * A model run that fails (refused, dropped, crashed) fails the request with that same error, not a copy.
 * A request still in the pipeline at its deadline is answered then (503 DeadlineUnmeetable), and one whose client has
 * gone is answered at once (ClientClosed); in both cases its further model runs are failed at once, so the thread
 * stops at its next stage boundary instead of working for a reply nobody waits for.
 */
import { Worker } from 'node:worker_threads';
import type { PipelineConfig, RunOptions } from '../../core/ocr';
import type { FloatTensor, InferFn, OcrResult, RgbaImage } from '../../core/ocr/types';
import { ClientClosedError, DeadlineError, ServerError } from '../http/errors';
import { timerAt } from '../scheduler/timers';
import type { FromPipeline, PipelineThreadInit, ToPipeline } from './pipeline-messages';

const ENTRY = new URL('./pipeline-thread.mjs', import.meta.url);

interface Request {
  infer: InferFn;
  /**
   * The thread the request was sent to: its model runs are answered there, never in a thread that replaced it after a
   * crash, whose own calls reuse the same numbers.
   */
  worker: Worker;
  resolve: (r: OcrResult) => void;
  reject: (e: Error) => void;
  /** The first failed model run: the request fails with it. */
  inferError: Error | null;
  /** Stops the deadline timer and the abort listener. */
  detach: () => void;
}

const ABANDONED = 'the request was already answered (deadline passed or client gone)';

export class PipelineThread {
  private worker: Worker;
  private readonly requests = new Map<number, Request>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly config: PipelineConfig) {
    this.worker = this.spawn();
  }

  /**
   * `deadline`: absolute performance.now() time; the request is failed then if it has not finished. `signal`: fires
   * when the client has gone; the request is failed at once.
   */
  run(image: RgbaImage, options: RunOptions, infer: InferFn, deadline = Infinity, signal?: AbortSignal): Promise<OcrResult> {
    if (this.closed) return Promise.reject(new ServerError('PoolClosed', 'the server is shutting down; retry on another instance'));
    if (signal?.aborted) return Promise.reject(new ClientClosedError('before its image reached the pipeline'));
    return new Promise<OcrResult>((resolve, reject) => {
      const id = this.nextId++;
      const started = performance.now();
      const abandon = (error: Error) => {
        const request = this.requests.get(id);
        if (!request) return;
        this.requests.delete(id);
        request.detach();
        reject(error);
      };
      const timer =
        deadline === Infinity
          ? null
          : timerAt(deadline, () => {
              const elapsed = performance.now() - started;
              abandon(new DeadlineError(elapsed, deadline - started, 1, ` (still processing at the deadline, after ${Math.round(elapsed)} ms)`));
            });
      const onAbort = () => abandon(new ClientClosedError('while its image was in the pipeline'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const detach = () => {
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
      };
      const worker = this.worker;
      this.requests.set(id, { infer, worker, resolve, reject, inferError: null, detach });
      const buffer = image.data.buffer;
      send(worker, { type: 'ocr', id, image, options }, buffer instanceof ArrayBuffer && image.data.byteLength === buffer.byteLength ? [buffer] : []);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    // Called once every request has finished (the pool drains first), so nothing is cut short here.
    await this.worker.terminate();
  }

  private spawn(): Worker {
    const worker = new Worker(ENTRY, { workerData: { config: this.config } satisfies PipelineThreadInit, name: 'ocr-pipeline' });
    worker.unref();
    worker.on('message', (msg: FromPipeline) => this.onMessage(worker, msg));
    worker.on('error', (err) => this.failAll(new ServerError('WorkerCrashed', `the OCR pipeline thread stopped (${err.message}); retry the request`)));
    worker.on('exit', () => {
      if (this.closed) return;
      this.failAll(new ServerError('WorkerCrashed', 'the OCR pipeline thread stopped; retry the request'));
      this.worker = this.spawn();
    });
    return worker;
  }

  private failAll(error: Error): void {
    for (const r of this.requests.values()) {
      r.detach();
      r.reject(error);
    }
    this.requests.clear();
  }

  private onMessage(worker: Worker, msg: FromPipeline): void {
    const request = this.requests.get(msg.id);
    if (!request || request.worker !== worker) {
      // Answered already (deadline, client gone, a crashed thread's): its pipeline stops at its next model run.
      if (msg.type === 'infer') send(worker, { type: 'inferFailed', call: msg.call, error: { name: 'Abandoned', message: ABANDONED } });
      return;
    }
    if (msg.type === 'infer') {
      request.infer(msg.role, msg.tensor).then(
        (tensor: FloatTensor) => send(worker, { type: 'inferred', call: msg.call, tensor }, [tensor.data.buffer as ArrayBuffer]),
        (e: unknown) => {
          const err = e instanceof Error ? e : new Error(String(e));
          request.inferError ??= err;
          send(worker, { type: 'inferFailed', call: msg.call, error: { name: err.name, message: err.message } });
        },
      );
      return;
    }
    this.requests.delete(msg.id);
    request.detach();
    if (msg.type === 'done') request.resolve(msg.result);
    else request.reject(request.inferError ?? Object.assign(new Error(msg.error.message), { name: msg.error.name, code: msg.error.code }));
  }
}

function send(worker: Worker, message: ToPipeline, transfer: ArrayBuffer[] = []): void {
  try {
    worker.postMessage(message, transfer);
  } catch {
    // Some buffers (e.g. Node's shared Buffer pool) cannot be transferred: copy them.
    worker.postMessage(message);
  }
}
