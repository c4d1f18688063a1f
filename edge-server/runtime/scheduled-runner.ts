/**
 * The one scheduled model runner: every run, local or forwarded, goes through this earliest-deadline-first queue
 * (scheduler/deadline-queue.ts) with per-model bookkeeping, estimates from measured runs, predicted wait, refusal of
 * runs predicted late, settlement and drain on shutdown. What differs between running on local worker threads
 * (runtime/pool.ts) and forwarding to an EDGE_BACKEND (runtime/remote.ts) is an Executor: its slots, how a run is
 * carried out, and which models it can run now.
 */
import type { ModelStatus } from '../../core/protocol/v1';
import { ClientClosedError, DeadlineError, ServerError } from '../http/errors';
import type { Candidate } from '../scheduler/adapt';
import { DeadlineQueue, type BatchPolicy, type QueuedJob } from '../scheduler/deadline-queue';
import { estimateFor } from '../scheduler/edf';
import { LatencyTracker, sizeBucket } from './latency';
import type { OutputReduction, TensorMap } from './messages';

export interface RunResult {
  outputs: TensorMap;
  /** Time waiting for a free worker. */
  queueMs: number;
  /** session.run() time inside the worker (forwarded: the backend's round trip). */
  runMs: number;
  /** From run() call to result, including transfers. */
  totalMs: number;
  /** Callers that shared this model run (1 = ran alone). */
  batch: number;
  /** The model that ran: one of `accept` when the run accepted others. */
  model?: string;
}

export interface RunOptions {
  outputs?: string[];
  /** Absolute performance.now() time by which the run must have finished; absent = no budget. */
  deadline?: number;
  /**
   * Models that may run in place of the one asked for (same inputs and outputs), with their expected accuracy; the
   * queue picks one across everything queued (scheduler/adapt.ts). Include the asked-for model to keep it eligible.
   */
  accept?: ReadonlyArray<{ model: string; accuracy: number }>;
  /** A stage of a request admitted as a whole: not tested again at queueing, only dropped once late. */
  admitted?: boolean;
  /** Run even once late, behind the runs still in time, instead of failing (the client wants a late answer). */
  keepLate?: boolean;
  /** Fires when the request this run belongs to is abandoned (client gone): a run still queued is withdrawn, never run. */
  signal?: AbortSignal;
  /** Applied to the outputs where the model ran, before they cross back (runtime/messages.ts). */
  reduce?: OutputReduction;
}

export type PoolModelStatus = Pick<ModelStatus, 'name' | 'state' | 'error' | 'inFlight' | 'queued' | 'latency' | 'predictedWaitMs' | 'runs' | 'refused'>;

export interface PoolStatus {
  models: PoolModelStatus[];
  pool: { workers: number; intraOpThreads: number; busy: number; queued: number };
}

/** What the routes, the OCR service and the metrics need from whatever runs the models. */
export interface InferenceRunner {
  run(model: string, inputs: TensorMap, options?: RunOptions): Promise<RunResult>;
  status(): PoolStatus;
  hasModel(name: string): boolean;
  isModelReady(name: string): boolean;
  isReady(): boolean;
  estimate(model: string, bucket: string): number;
  predictedWaitMs(now?: number): number;
  predictedWaitFor(deadline: number, now?: number): number;
  close(timeoutMs?: number): Promise<void>;
  /** Told about every finished run (metrics). */
  onRun: ((model: string, runMs: number, queueMs: number) => void) | null;
  /** Told how many callers shared each model run (metrics). */
  onBatch: ((model: string, callers: number) => void) | null;
}

/** One run handed to an executor: the inputs of one or more callers (`parts`), to be joined along the first axis. */
export interface ExecutorRun {
  model: string;
  parts: TensorMap[];
  outputs?: string[];
  /** Parts narrower than the widest are zero-padded on the last axis (recognition crops of one width bucket). */
  padLastAxis: boolean;
  reduce?: OutputReduction;
}

/** Where runs are carried out: local worker slots, or concurrent requests to a backend. */
export interface Executor<S> {
  readonly models: readonly string[];
  /** Threads per run, for status() (0 when the backend's business). */
  readonly intraOpThreads: number;
  /**
   * At shutdown, runs still in progress after the grace period: 'answer' = fail them at once (a forwarded request can be
   * left behind), 'wait' = wait for them (a native session.run() cannot be interrupted).
   */
  readonly onShutdown: 'answer' | 'wait';
  /** Runs that can be in progress at once now (live workers, backend concurrency). */
  capacity(): number;
  /** A free slot that can run `model` now, or null. */
  slotFor(model: string): S | null;
  /** The error to answer a run of `model` with when it cannot run (failed, no worker left, backend down), or null. */
  unavailable(model: string): ServerError | null;
  state(model: string): { state: PoolModelStatus['state']; error?: string };
  /** Carries out `run` on `slot` (busy until settled); outputs split back per part, or the error for every caller. */
  execute(slot: S, run: ExecutorRun): Promise<{ parts: TensorMap[]; runMs: number }>;
  /** Stops the slots once no run is in progress. */
  close(): Promise<void>;
}

export interface RunnerOptions {
  /** Dynamic batching: most rows per run and how long a partial batch may wait; absent = no batching. */
  batching?: BatchPolicy;
  /** Models whose inputs may be zero-padded on the last axis to share a run (recognition crops). */
  padWidthModels?: readonly string[];
}

interface Job extends QueuedJob {
  candidates?: ReadonlyArray<Candidate & { model: string }>;
  model: string;
  inputs: TensorMap;
  outputs?: string[];
  reduce?: OutputReduction;
  bucket: string;
  /** 0 while queued, the start time while running, -1 once answered. */
  startedAt: number;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
  /** Stops listening for the caller's abort signal. */
  detach?: () => void;
}

interface ModelBook {
  inFlight: number;
  queued: number;
  runs: number;
  refused: number;
  latency: LatencyTracker;
}

interface Running {
  jobs: Job[];
  startedAt: number;
  estimateMs: number;
  bucket: string;
}

export class ScheduledRunner<S> implements InferenceRunner {
  onRun: ((model: string, runMs: number, queueMs: number) => void) | null = null;
  onBatch: ((model: string, callers: number) => void) | null = null;
  private readonly queue: DeadlineQueue<Job, S>;
  private readonly books = new Map<string, ModelBook>();
  private readonly running = new Set<Running>();
  private readonly padWidth: Set<string>;
  private closing = false;
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly executor: Executor<S>,
    options: RunnerOptions = {},
  ) {
    this.padWidth = new Set(options.padWidthModels ?? []);
    this.queue = new DeadlineQueue<Job, S>(
      {
        executors: () => this.executor.capacity(),
        running: () => this.running,
        executorFor: (job) => this.executor.slotFor(job.model) ?? this.executor.unavailable(job.model),
        start: (slot, batch) => this.start(slot, batch),
        batchKey: (job) => this.batchKey(job),
        batchRows: (job) => Object.values(job.inputs)[0]?.dims[0] ?? 1,
        reject: (job, error) => {
          if (error instanceof DeadlineError) this.books.get(job.model)!.refused++;
          this.settle(job, error);
        },
        choose: (job, index) => {
          const next = job.candidates![index].model;
          if (next === job.model) return;
          this.books.get(job.model)!.queued--;
          this.books.get(next)!.queued++;
          job.model = next;
        },
      },
      options.batching,
    );
    for (const m of executor.models) this.books.set(m, { inFlight: 0, queued: 0, runs: 0, refused: 0, latency: new LatencyTracker() });
  }

  hasModel(name: string): boolean {
    return this.books.has(name);
  }

  isModelReady(name: string): boolean {
    return this.books.has(name) && this.executor.state(name).state === 'ready';
  }

  isReady(): boolean {
    return !this.closing && this.executor.models.every((m) => this.isModelReady(m));
  }

  run(model: string, inputs: TensorMap, options: RunOptions = {}): Promise<RunResult> {
    if (this.closing) return Promise.reject(new ServerError('PoolClosed', 'the server is shutting down; retry on another instance'));
    const book = this.books.get(model);
    if (!book) return Promise.reject(new ServerError('UnknownModel', `unknown model ${model}`));
    if (options.signal?.aborted) return Promise.reject(new ClientClosedError('before its model run was queued'));
    const unavailable = this.executor.unavailable(model);
    if (unavailable) return Promise.reject(unavailable);
    const first = Object.values(inputs)[0];
    const bucket = first ? sizeBucket(first.dims) : 'scalar';
    let candidates: Job['candidates'];
    if (options.accept?.length) {
      const unknown = options.accept.find((a) => !this.books.has(a.model));
      if (unknown) return Promise.reject(new ServerError('UnknownModel', `unknown model ${unknown.model}`));
      candidates = options.accept
        .filter((a) => this.executor.unavailable(a.model) === null)
        .map((a) => ({ model: a.model, accuracy: a.accuracy, estimateMs: this.estimate(a.model, bucket) }));
      if (candidates.length === 0)
        return Promise.reject(new ServerError('ModelUnavailable', `none of ${options.accept.map((a) => a.model).join(', ')} is available`));
    }
    return new Promise<RunResult>((resolve, reject) => {
      const job: Job = {
        model,
        inputs,
        outputs: options.outputs,
        reduce: options.reduce,
        bucket,
        deadline: options.deadline ?? Infinity,
        estimateMs: this.estimate(model, bucket),
        seq: this.queue.nextSeq(),
        enqueuedAt: performance.now(),
        startedAt: 0,
        resolve,
        reject,
        candidates,
        admitted: options.admitted,
        keepLate: options.keepLate,
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

  /** Predicted execution time of one run, from this runner's own measurements; 0 before the first run of the model. */
  estimate(model: string, bucket: string): number {
    const book = this.books.get(model);
    return (book && estimateFor(book.latency.estimates(), bucket)) ?? 0;
  }

  /** Predicted wait before a run submitted now without a budget would start (it queues behind everything). */
  predictedWaitMs(now = performance.now()): number {
    return this.queue.predictedWait(Infinity, now);
  }

  /** Predicted wait for a run with `deadline` (EDF puts it ahead of later deadlines). */
  predictedWaitFor(deadline: number, now = performance.now()): number {
    return this.queue.predictedWait(deadline, now);
  }

  status(): PoolStatus {
    const predictedWaitMs = Math.round(this.predictedWaitMs() * 10) / 10;
    return {
      models: this.executor.models.map((name) => {
        const book = this.books.get(name)!;
        const { state, error } = this.executor.state(name);
        const status: PoolModelStatus = {
          name,
          state,
          inFlight: book.inFlight,
          queued: book.queued,
          latency: book.latency.snapshot(),
          predictedWaitMs,
          runs: book.runs,
          refused: book.refused,
        };
        if (error !== undefined) status.error = error;
        return status;
      }),
      pool: { workers: this.executor.capacity(), intraOpThreads: this.executor.intraOpThreads, busy: this.running.size, queued: this.queue.length },
    };
  }

  /**
   * Stops taking work, lets queued and running runs finish (up to `timeoutMs`), answers what is left with PoolClosed,
   * then stops the executor.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.drained(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    const stopped = new ServerError('PoolClosed', 'the server shut down before this request finished');
    for (const job of this.queue.drain()) this.settle(job, stopped);
    if (this.executor.onShutdown === 'answer') for (const r of [...this.running]) for (const job of r.jobs) this.settle(job, stopped);
    else await this.drained();
    await this.executor.close();
  }

  /** Answers every queued run with `error` (the executor can never run anything again). */
  failQueued(error: Error): void {
    for (const job of this.queue.drain()) this.settle(job, error);
  }

  /** Looks at the queue again (a slot became free or a model loaded). */
  dispatch(): void {
    this.queue.dispatch();
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.idle()) resolve();
      else this.drainWaiters.push(resolve);
    });
  }

  private idle(): boolean {
    return this.queue.length === 0 && this.running.size === 0;
  }

  /**
   * Runs that may share a run: same model, outputs and input dims after the first, where padded models' crops count
   * by width bucket (they are zero-padded to the widest member, as the pipeline pads its own batches).
   */
  private batchKey(job: Job): string | null {
    const dims = Object.entries(job.inputs).map(([name, t]) => {
      const rest = t.dims.slice(1);
      if (this.padWidth.has(job.model) && rest.length) rest[rest.length - 1] = widthBucket(rest[rest.length - 1]);
      return `${name}:${t.datatype}:${rest.join('x')}`;
    });
    const reduce = job.reduce ? `${job.reduce.kind}:${job.reduce.spaceIndex}` : '-';
    return `${job.model}|${job.outputs?.join(',') ?? '*'}|${reduce}|${dims.join('|')}`;
  }

  private start(slot: S, jobs: Job[]): void {
    const head = jobs[0];
    const now = performance.now();
    for (const job of jobs) {
      const book = this.books.get(job.model)!;
      book.queued--;
      book.inFlight++;
      book.runs++;
      job.startedAt = now;
    }
    const padLastAxis = this.padWidth.has(head.model);
    const parts = jobs.map((j) => j.inputs);
    const first = Object.values(joinedDims(parts, padLastAxis))[0];
    const run: Running = { jobs, startedAt: now, estimateMs: jobs.reduce((s, j) => s + j.estimateMs, 0), bucket: first ? sizeBucket(first) : 'scalar' };
    this.running.add(run);
    // The inputs now belong to the executor (their buffers may be transferred).
    for (const job of jobs) job.inputs = {};
    this.onBatch?.(head.model, jobs.length);
    this.executor.execute(slot, { model: head.model, parts, outputs: head.outputs, padLastAxis, reduce: head.reduce }).then(
      (done) => this.finish(run, null, done),
      (e: unknown) => this.finish(run, e instanceof Error ? e : new ServerError('InferenceFailed', String(e))),
    );
  }

  private finish(run: Running, error: Error | null, done?: { parts: TensorMap[]; runMs: number }): void {
    if (!this.running.delete(run)) return;
    if (done) {
      const now = performance.now();
      this.books.get(run.jobs[0].model)!.latency.record(run.bucket, done.runMs);
      run.jobs.forEach((job, i) => {
        const queueMs = job.startedAt - job.enqueuedAt;
        this.onRun?.(job.model, done.runMs, queueMs);
        this.settle(job, null, { outputs: done.parts[i], queueMs, runMs: done.runMs, totalMs: now - job.enqueuedAt, batch: run.jobs.length, model: job.model });
      });
    } else for (const job of run.jobs) this.settle(job, error);
    this.queue.dispatch();
    this.wakeDrain();
  }

  private settle(job: Job, error: Error | null, result?: RunResult): void {
    if (job.startedAt < 0) return; // already answered
    const book = this.books.get(job.model)!;
    if (job.startedAt > 0) book.inFlight--;
    else book.queued--;
    job.startedAt = -1;
    job.detach?.();
    if (error) job.reject(error);
    else job.resolve(result!);
    this.wakeDrain();
  }

  private wakeDrain(): void {
    if (this.closing && this.idle()) for (const w of this.drainWaiters.splice(0)) w();
  }
}

/** Recognition width classes: 32 px steps up to 256, 64 up to 512, 128 beyond (padding costs at most about 25 %). */
export function widthBucket(width: number): number {
  const step = width <= 256 ? 32 : width <= 512 ? 64 : 128;
  return Math.ceil(width / step) * step;
}

/** Dims of the joined batch per input (rows summed; padded models take the widest last axis). */
function joinedDims(parts: TensorMap[], padLastAxis: boolean): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const name of Object.keys(parts[0])) {
    const dims = [...parts[0][name].dims];
    dims[0] = parts.reduce((s, p) => s + p[name].dims[0], 0);
    if (padLastAxis && dims.length > 1) dims[dims.length - 1] = Math.max(...parts.map((p) => p[name].dims[dims.length - 1]));
    out[name] = dims;
  }
  return out;
}
