/**
 * Model runs forwarded to an external Open Inference Protocol v2 server (Triton, KServe, MLServer, another Tandem edge)
 * with the binary tensor extension. Scheduling stays here: runs queue earliest-deadline-first, at most `concurrency`
 * are sent at once, and a run predicted to finish late is refused before it is sent, or dropped while queued.
 * Which models exist and their tensors come from the local manifest; the backend must serve the same names.
 */
import type { ManifestModel } from '../../core/models/manifest';
import { HEADER_LENGTH_HEADER, type NumericTensorData, type Tensor } from '../../core/protocol/oip';
import { decodeInferenceResponse, encodeInferenceRequest } from '../../core/protocol/oip-codec';
import { ClientClosedError, DeadlineError, ServerError } from '../errors';
import { silentLogger, type Logger } from '../log';
import { DeadlineQueue, type QueuedJob } from '../scheduler/deadline-queue';
import { estimateFor } from '../scheduler/edf';
import { LatencyTracker, sizeBucket } from './latency';
import type { RuntimeTensor, TensorMap } from './messages';
import type { Candidate } from '../scheduler/adapt';
import type { PoolModelStatus, PoolStatus, RunOptions, RunResult } from './pool';
import type { InferenceRunner } from './runner';

/** Tensor types the pipeline and the OIP routes pass on (BYTES outputs have no use here). */
const RUNTIME_DATATYPES = new Set<string>(['FP32', 'FP16', 'INT8', 'UINT8', 'INT32', 'INT64', 'BOOL']);

export interface RemoteOptions {
  /** Base URL, e.g. http://triton:8000 (no trailing slash needed). */
  url: string;
  models: ManifestModel[];
  concurrency: number;
  timeoutMs: number;
  token?: string | null;
  log?: Logger;
  /** How often models the backend did not have ready are asked again. */
  reprobeMs?: number;
}

interface Job extends QueuedJob {
  candidates?: ReadonlyArray<Candidate & { model: string }>;
  model: ManifestModel;
  inputs: TensorMap;
  outputs: string[];
  bucket: string;
  startedAt: number;
  settled: boolean;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
  detach?: () => void;
}

interface ModelBook {
  state: PoolModelStatus['state'];
  error?: string;
  inFlight: number;
  queued: number;
  runs: number;
  refused: number;
  latency: LatencyTracker;
}

export class RemoteRunner implements InferenceRunner {
  readonly url: string;
  onRun: ((model: string, runMs: number, queueMs: number) => void) | null = null;
  /** Each forwarded run is one caller's (the backend may batch on its side). */
  onBatch: ((model: string, callers: number) => void) | null = null;
  private readonly opts: RemoteOptions;
  private readonly log: Logger;
  private readonly models = new Map<string, ManifestModel>();
  private readonly books = new Map<string, ModelBook>();
  private readonly queue: DeadlineQueue<Job, true>;
  private readonly running = new Set<Job>();
  private closing = false;
  private drainWaiters: Array<() => void> = [];
  private reprobeTimer: NodeJS.Timeout | null = null;

  private constructor(opts: RemoteOptions) {
    this.opts = opts;
    this.url = opts.url.replace(/\/+$/, '');
    this.log = opts.log ?? silentLogger;
    this.queue = new DeadlineQueue<Job, true>({
      executors: () => this.opts.concurrency,
      running: () => this.running,
      executorFor: () => (this.running.size < this.opts.concurrency ? true : null),
      start: (_, batch) => { void this.send(batch[0]); },
      reject: (job, error) => {
        this.books.get(job.model.name)!.refused++;
        this.settle(job, error);
      },
      choose: (job, index) => {
        const next = this.models.get(job.candidates![index].model)!;
        if (next === job.model) return;
        this.books.get(job.model.name)!.queued--;
        this.books.get(next.name)!.queued++;
        job.model = next;
      },
    });
    for (const m of opts.models) {
      this.models.set(m.name, m);
      this.books.set(m.name, { state: 'loading', inFlight: 0, queued: 0, runs: 0, refused: 0, latency: new LatencyTracker() });
    }
  }

  /** Asks the backend whether each model is ready; models it lacks are reported failed in status() and asked again later. */
  static async start(opts: RemoteOptions): Promise<RemoteRunner> {
    const runner = new RemoteRunner(opts);
    await runner.probe([...runner.models.keys()]);
    const every = opts.reprobeMs ?? 5000;
    runner.reprobeTimer = setInterval(() => {
      const failed = [...runner.books].filter(([, b]) => b.state !== 'ready').map(([n]) => n);
      if (failed.length) void runner.probe(failed);
    }, every);
    runner.reprobeTimer.unref();
    return runner;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.opts.token ? { ...extra, Authorization: `Bearer ${this.opts.token}` } : extra;
  }

  private async probe(names: string[]): Promise<void> {
    await Promise.all(names.map(async (name) => {
      const book = this.books.get(name)!;
      try {
        const res = await fetch(`${this.url}/v2/models/${encodeURIComponent(name)}/ready`, {
          headers: this.headers(), signal: AbortSignal.timeout(Math.min(this.opts.timeoutMs, 5000)),
        });
        await res.arrayBuffer();
        if (res.ok) {
          if (book.state !== 'ready') this.log.info('backend model ready', { model: name, backend: this.url });
          book.state = 'ready';
          delete book.error;
        } else {
          book.state = 'failed';
          book.error = `the inference backend ${this.url} answered ${res.status} for model ${name}`
            + (res.status === 404 ? ' (it does not serve a model of this name)' : '');
        }
      } catch (e) {
        book.state = 'failed';
        book.error = `the inference backend ${this.url} is unreachable: ${causeOf(e)}`;
      }
      if (book.state === 'failed') this.log.warn('backend model not ready', { model: name, error: book.error });
    }));
  }

  hasModel(name: string): boolean { return this.books.has(name); }
  isModelReady(name: string): boolean { return this.books.get(name)?.state === 'ready'; }
  isReady(): boolean { return !this.closing && [...this.books.values()].every((b) => b.state === 'ready'); }

  estimate(model: string, bucket: string): number {
    const book = this.books.get(model);
    return (book && estimateFor(book.latency.estimates(), bucket)) ?? 0;
  }

  predictedWaitMs(now = performance.now()): number { return this.predictedWaitFor(Infinity, now); }

  predictedWaitFor(deadline: number, now = performance.now()): number {
    return this.queue.predictedWait(deadline, now);
  }

  run(model: string, inputs: TensorMap, options: RunOptions = {}): Promise<RunResult> {
    if (this.closing) return Promise.reject(new ServerError('PoolClosed', 'the server is shutting down; retry on another instance'));
    const m = this.models.get(model);
    const book = this.books.get(model);
    if (!m || !book) return Promise.reject(new ServerError('UnknownModel', `unknown model ${model}`));
    if (options.signal?.aborted) return Promise.reject(new ClientClosedError('before its model run was queued'));
    if (book.state !== 'ready') return Promise.reject(new ServerError('BackendUnavailable', book.error ?? `model ${model} is not ready on the backend`));
    const first = Object.values(inputs)[0];
    const bucket = first ? sizeBucket(first.dims) : 'scalar';
    const estimateMs = this.estimate(model, bucket);
    const deadline = options.deadline ?? Infinity;
    // Accepted alternatives the backend has ready; the queue picks among them (scheduler/adapt.ts).
    const unknown = options.accept?.find((a) => !this.models.has(a.model));
    if (unknown) return Promise.reject(new ServerError('UnknownModel', `unknown model ${unknown.model}`));
    const candidates = options.accept?.filter((a) => this.books.get(a.model)!.state === 'ready')
      .map((a) => ({ model: a.model, accuracy: a.accuracy, estimateMs: this.estimate(a.model, bucket) }));
    return new Promise<RunResult>((resolve, reject) => {
      const job: Job = {
        model: m, inputs, outputs: options.outputs ?? m.outputs.map((o) => o.name), bucket, deadline, estimateMs,
        seq: this.queue.nextSeq(), enqueuedAt: performance.now(), startedAt: 0, settled: false, resolve, reject, admitted: options.admitted,
        candidates: candidates?.length ? candidates : undefined,
      };
      book.queued++;
      const refusal = this.queue.offer(job);
      if (refusal) {
        book.queued--;
        book.refused++;
        reject(new DeadlineError(refusal.predictedMs, refusal.budgetMs, refusal.retryAfterS));
        return;
      }
      job.detach = this.queue.withdrawOn(job, options.signal, (j) => this.settle(j, new ClientClosedError('while its model run was queued')));
    });
  }

  status(): PoolStatus {
    const wait = Math.round(this.predictedWaitMs() * 10) / 10;
    return {
      models: [...this.books].map(([name, b]) => {
        const s: PoolModelStatus = {
          name, state: b.state, inFlight: b.inFlight, queued: b.queued, latency: b.latency.snapshot(),
          predictedWaitMs: wait, runs: b.runs, refused: b.refused,
        };
        if (b.error) s.error = b.error;
        return s;
      }),
      // Concurrent requests to the backend play the part of workers; threads are the backend's business.
      pool: { workers: this.opts.concurrency, intraOpThreads: 0, busy: this.running.size, queued: this.queue.length },
    };
  }

  async close(timeoutMs = 30_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.reprobeTimer) clearInterval(this.reprobeTimer);
    if (!this.idle()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => this.drainWaiters.push(r)),
        new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); }),
      ]);
      clearTimeout(timer);
    }
    const stopped = new ServerError('PoolClosed', 'the server shut down before this request finished');
    for (const job of this.queue.drain()) this.settle(job, stopped);
    for (const job of [...this.running]) this.settle(job, stopped);
  }

  private idle(): boolean { return this.queue.length === 0 && this.running.size === 0; }

  private async send(job: Job): Promise<void> {
    const book = this.books.get(job.model.name)!;
    book.queued--;
    book.inFlight++;
    book.runs++;
    job.startedAt = performance.now();
    this.running.add(job);
    this.onBatch?.(job.model.name, 1);
    try {
      const outputs = await this.request(job);
      const runMs = performance.now() - job.startedAt;
      const queueMs = job.startedAt - job.enqueuedAt;
      book.latency.record(job.bucket, runMs);
      this.onRun?.(job.model.name, runMs, queueMs);
      this.settle(job, null, { outputs, queueMs, runMs, totalMs: performance.now() - job.enqueuedAt, batch: 1, model: job.model.name });
    } catch (e) {
      if (e instanceof ServerError && e.name === 'BackendUnreachable') this.markUnreachable(e.message);
      this.settle(job, e instanceof ServerError ? e : new ServerError('BackendFailed', `the inference backend failed: ${causeOf(e)}`));
    }
  }

  /**
   * A backend that cannot be reached serves no model: later runs are refused at once (clients fall back without waiting
   * on a connect timeout) until the periodic readiness probe finds it back.
   */
  private markUnreachable(message: string): void {
    for (const [name, book] of this.books) {
      if (book.state === 'ready') this.log.warn('backend unreachable; model marked failed until it answers again', { model: name });
      book.state = 'failed';
      book.error = message;
    }
  }

  private async request(job: Job): Promise<TensorMap> {
    const name = job.model.name;
    const inputs: Tensor[] = Object.entries(job.inputs).map(([n, t]) => ({ name: n, datatype: t.datatype, shape: t.dims, data: t.data }));
    job.inputs = {};
    const wire = encodeInferenceRequest({
      inputs, outputs: job.outputs.map((n) => ({ name: n, parameters: { binary_data: true } })),
    }, { binaryInputs: true });
    const headers = this.headers({ 'Content-Type': wire.contentType });
    if (wire.headerLength !== undefined) headers[HEADER_LENGTH_HEADER] = String(wire.headerLength);
    let res: Response;
    try {
      res = await fetch(`${this.url}/v2/models/${encodeURIComponent(name)}/infer`, {
        method: 'POST', headers, body: wire.body as string | Uint8Array<ArrayBuffer>, signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') {
        throw new ServerError('BackendTimeout', `the inference backend ${this.url} did not answer ${name} within ${this.opts.timeoutMs} ms (EDGE_BACKEND_TIMEOUT_MS)`);
      }
      throw new ServerError('BackendUnreachable', `the inference backend ${this.url} is unreachable for ${name}: ${causeOf(e)}; retry later`);
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw new ServerError('BackendFailed', `the inference backend ${this.url} broke off its answer for ${name}: ${causeOf(e)}; retry later`);
    }
    if (!res.ok) {
      const detail = backendMessage(bytes);
      const what = `the inference backend answered ${res.status} for ${name}${detail ? `: ${detail}` : ''}`;
      if (res.status === 400 || res.status === 422) throw new ServerError('InferenceFailed', what);
      if (res.status === 404) throw new ServerError('BackendUnavailable', `${what} (it does not serve a model of this name)`);
      if (res.status === 503 || res.status === 429) throw new ServerError('BackendUnavailable', what);
      if (res.status === 504) throw new ServerError('BackendTimeout', what);
      throw new ServerError('BackendFailed', what);
    }
    const h = res.headers.get(HEADER_LENGTH_HEADER);
    const decoded = h === null ? decodeInferenceResponse(new TextDecoder().decode(bytes)) : decodeInferenceResponse(bytes, Number(h));
    const out: TensorMap = {};
    for (const t of decoded.outputs) {
      if (!RUNTIME_DATATYPES.has(t.datatype)) {
        throw new ServerError('BackendFailed', `the inference backend returned ${t.datatype} output ${t.name} for ${name}, which this server does not handle`);
      }
      out[t.name] = { datatype: t.datatype as RuntimeTensor['datatype'], dims: t.shape, data: t.data as NumericTensorData };
    }
    for (const n of job.outputs) {
      if (!out[n]) throw new ServerError('BackendFailed', `the inference backend answered ${name} without output ${n}`);
    }
    return out;
  }

  private settle(job: Job, error: Error | null, result?: RunResult): void {
    if (job.settled) return;
    job.settled = true;
    job.detach?.();
    const book = this.books.get(job.model.name)!;
    if (this.running.delete(job)) book.inFlight--;
    else book.queued--;
    if (error) job.reject(error);
    else job.resolve(result!);
    if (!this.closing) this.queue.dispatch();
    else if (this.idle()) for (const w of this.drainWaiters.splice(0)) w();
  }
}

function causeOf(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}

/** The error text of a backend reply: OIP servers answer {"error": "..."}. */
function backendMessage(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes.subarray(0, 2000));
  try {
    const j = JSON.parse(text) as { error?: unknown };
    if (typeof j.error === 'string') return j.error;
  } catch { /* not JSON */ }
  return text.trim().slice(0, 200);
}
