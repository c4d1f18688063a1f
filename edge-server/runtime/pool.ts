/**
 * A pool of worker threads, each holding one onnxruntime-node session per model. session.run() blocks its thread,
 * so parallelism comes from workers; requests beyond the idle workers wait in one queue served earliest-deadline-first
 * (scheduler/edf.ts). A run with a deadline is refused at once when it is predicted to finish late, and dropped,
 * never run, when it becomes late while queued.
 * Input buffers are transferred to the worker (the caller gives them up), outputs are transferred back.
 */
import { Worker } from 'node:worker_threads';
import type { ModelStatus } from '../../core/protocol/v1';
import { ClientClosedError, DeadlineError, ServerError, publicMessage } from '../errors';
import { silentLogger, type Logger } from '../log';
import type { Candidate } from '../scheduler/adapt';
import { DeadlineQueue, type BatchPolicy, type QueuedJob } from '../scheduler/deadline-queue';
import { estimateFor } from '../scheduler/edf';
import { LatencyTracker, sizeBucket } from './latency';
import type { InferenceRunner } from './runner';
import type { FromWorker, SerializedError, TensorMap, ToWorker, WorkerModel } from './messages';

export interface PoolOptions {
  models: WorkerModel[];
  workers: number;
  intraOpThreads: number;
  /** Dynamic batching: most rows per run and how long a partial batch may wait; absent = no batching. */
  batching?: BatchPolicy;
  /** Models whose inputs may be zero-padded on the last axis to share a run (recognition crops). */
  padWidthModels?: string[];
  log?: Logger;
}

export interface RunResult {
  outputs: TensorMap;
  /** Time waiting for a free worker. */
  queueMs: number;
  /** session.run() time inside the worker. */
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
  /** Fires when the request this run belongs to is abandoned (client gone): a run still queued is withdrawn, never run. */
  signal?: AbortSignal;
}

export type PoolModelStatus = Pick<ModelStatus, 'name' | 'state' | 'error' | 'inFlight' | 'queued' | 'latency' | 'predictedWaitMs' | 'runs' | 'refused'>;

export interface PoolStatus {
  models: PoolModelStatus[];
  pool: { workers: number; intraOpThreads: number; busy: number; queued: number };
}

interface ModelCandidate extends Candidate {
  model: string;
}

interface Job extends QueuedJob {
  candidates?: readonly ModelCandidate[];
  id: number;
  model: string;
  inputs: TensorMap;
  outputs?: string[];
  bucket: string;
  /** 0 while queued, the start time while running, -1 once answered. */
  startedAt: number;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
  /** Stops listening for the caller's abort signal. */
  detach?: () => void;
}

interface Slot {
  index: number;
  worker: Worker;
  state: 'loading' | 'idle' | 'busy' | 'dead';
  loaded: Set<string>;
  failed: Map<string, string>;
  /** The batch running on this worker. */
  run: { id: number; jobs: Job[]; startedAt: number; estimateMs: number; bucket: string } | null;
  lastError: string | null;
}

interface ModelBook {
  inFlight: number;
  queued: number;
  runs: number;
  refused: number;
  latency: LatencyTracker;
}

const WORKER_ENTRY = new URL('./session-worker.mjs', import.meta.url);
/** More restarts than this within RESTART_WINDOW_MS means something is structurally wrong: stop respawning. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

export class SessionPool implements InferenceRunner {
  readonly workers: number;
  readonly intraOpThreads: number;
  private readonly models: WorkerModel[];
  private readonly log: Logger;
  private readonly slots: Slot[] = [];
  private readonly queue: DeadlineQueue<Job, Slot>;
  private readonly books = new Map<string, ModelBook>();
  private readonly restarts: number[] = [];
  private nextId = 1;
  private closing = false;
  private firstLoad: Promise<void>;
  private drainWaiters: Array<() => void> = [];
  /** Told about every finished run (metrics). */
  onRun: ((model: string, runMs: number, queueMs: number) => void) | null = null;
  /** Told the number of callers of every model run (metrics). */
  onBatch: ((model: string, callers: number) => void) | null = null;
  private readonly padWidth: Set<string>;
  private nextRunId = 1;

  private constructor(options: PoolOptions) {
    this.workers = options.workers;
    this.intraOpThreads = options.intraOpThreads;
    this.models = options.models;
    this.log = options.log ?? silentLogger;
    this.padWidth = new Set(options.padWidthModels ?? []);
    this.queue = new DeadlineQueue<Job, Slot>({
      executors: () => this.liveWorkers(),
      running: () => this.running(),
      executorFor: (job) => {
        const slot = this.slots.find((s) => s.state === 'idle' && s.loaded.has(job.model));
        if (slot) return slot;
        const reason = this.unavailableReason(job.model);
        return reason ? new ServerError('ModelUnavailable', reason) : null;
      },
      start: (slot, batch) => this.start(slot, batch),
      batchKey: (job) => this.batchKey(job),
      batchRows: (job) => rowsOf(job.inputs),
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
    }, options.batching);
    for (const m of options.models) this.books.set(m.name, { inFlight: 0, queued: 0, runs: 0, refused: 0, latency: new LatencyTracker() });
    const loads: Promise<void>[] = [];
    for (let i = 0; i < options.workers; i++) loads.push(this.spawn(i));
    this.firstLoad = Promise.all(loads).then(() => undefined);
  }

  /** Starts the workers and resolves once every worker has tried to load every model (failures show in status()). */
  static async start(options: PoolOptions): Promise<SessionPool> {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError('workers must be an integer >= 1');
    const pool = new SessionPool(options);
    await pool.firstLoad;
    return pool;
  }

  hasModel(name: string): boolean {
    return this.books.has(name);
  }

  isModelReady(name: string): boolean {
    return this.slots.some((s) => s.state !== 'dead' && s.loaded.has(name));
  }

  isReady(): boolean {
    return !this.closing && this.models.every((m) => this.isModelReady(m.name));
  }

  run(model: string, inputs: TensorMap, options: RunOptions = {}): Promise<RunResult> {
    if (this.closing) return Promise.reject(new ServerError('PoolClosed', 'the server is shutting down; retry on another instance'));
    const book = this.books.get(model);
    if (!book) return Promise.reject(new ServerError('UnknownModel', `unknown model ${model}`));
    if (options.signal?.aborted) return Promise.reject(new ClientClosedError('before its model run was queued'));
    const unavailable = this.unavailableReason(model);
    if (unavailable) return Promise.reject(new ServerError('ModelUnavailable', unavailable));
    const first = Object.values(inputs)[0];
    const bucket = first ? sizeBucket(first.dims) : 'scalar';
    const estimateMs = this.estimate(model, bucket);
    const deadline = options.deadline ?? Infinity;
    let candidates: ModelCandidate[] | undefined;
    if (options.accept?.length) {
      const unknown = options.accept.find((a) => !this.books.has(a.model));
      if (unknown) return Promise.reject(new ServerError('UnknownModel', `unknown model ${unknown.model}`));
      candidates = options.accept.filter((a) => this.unavailableReason(a.model) === null)
        .map((a) => ({ model: a.model, accuracy: a.accuracy, estimateMs: this.estimate(a.model, bucket) }));
      if (candidates.length === 0) return Promise.reject(new ServerError('ModelUnavailable', `none of ${options.accept.map((a) => a.model).join(', ')} is available`));
    }
    return new Promise<RunResult>((resolve, reject) => {
      const id = this.nextId++;
      const job: Job = {
        id, model, inputs, outputs: options.outputs, bucket, deadline, estimateMs, seq: this.queue.nextSeq(),
        enqueuedAt: performance.now(), startedAt: 0, resolve, reject, candidates, admitted: options.admitted,
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

  /** Predicted execution time of one run, from this pool's own measurements; 0 before the first run of the model. */
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

  private liveWorkers(): number {
    return this.slots.filter((s) => s.state !== 'dead').length;
  }

  private running(): Array<{ startedAt: number; estimateMs: number }> {
    return this.slots.flatMap((s) => (s.run ? [{ startedAt: s.run.startedAt, estimateMs: s.run.estimateMs }] : []));
  }

  status(): PoolStatus {
    return {
      models: this.models.map((m) => {
        const book = this.books.get(m.name)!;
        const live = this.slots.filter((s) => s.state !== 'dead');
        const ready = live.some((s) => s.loaded.has(m.name));
        const failures = live.map((s) => s.failed.get(m.name)).filter((e): e is string => e !== undefined);
        const allReported = live.length > 0 && live.every((s) => s.state !== 'loading');
        const state: PoolModelStatus['state'] = ready ? 'ready' : (allReported || live.length === 0) ? 'failed' : 'loading';
        const status: PoolModelStatus = {
          name: m.name, state, inFlight: book.inFlight, queued: book.queued, latency: book.latency.snapshot(),
          predictedWaitMs: Math.round(this.predictedWaitMs() * 10) / 10, runs: book.runs, refused: book.refused,
        };
        if (state === 'failed') status.error = failures[0] ?? 'no inference worker is running';
        return status;
      }),
      pool: {
        workers: this.slots.filter((s) => s.state !== 'dead').length,
        intraOpThreads: this.intraOpThreads,
        busy: this.slots.filter((s) => s.state === 'busy').length,
        queued: this.queue.length,
      },
    };
  }

  /**
   * Stops taking work, lets queued and running jobs finish (up to `timeoutMs`), then stops the workers.
   * Jobs still unfinished at the deadline are rejected.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const drained = new Promise<void>((resolve) => {
      if (this.idle()) resolve();
      else this.drainWaiters.push(resolve);
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
    await Promise.race([drained, deadline]);
    clearTimeout(timer);
    const stopped = new ServerError('PoolClosed', 'the server shut down before this request finished');
    for (const job of this.queue.drain()) this.settle(job, stopped);
    // A run in progress cannot be interrupted (terminating a thread inside native session.run() aborts the process),
    // so wait for those to come back before stopping the threads.
    if (!this.idle()) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    await Promise.all(this.slots.map(async (s) => {
      s.state = 'dead';
      await s.worker.terminate();
    }));
  }

  /**
   * Makes one worker fail as an uncaught error would (crash drill): work already sent to it fails with WorkerCrashed
   * and the pool replaces it. Worker.terminate() is not used for this because terminating a thread inside a native
   * session.run() aborts the whole process.
   */
  crashWorker(index: number): void {
    const slot = this.slots[index];
    if (!slot || slot.state === 'dead') throw new RangeError(`no live worker ${index}`);
    slot.worker.postMessage({ type: 'crash' } satisfies ToWorker);
  }

  // ---------------------------------------------------------------------------------------------------------------

  private spawn(index: number): Promise<void> {
    const worker = new Worker(WORKER_ENTRY, {
      workerData: { index, models: this.models, intraOpThreads: this.intraOpThreads },
      name: `inference-${index}`,
    });
    const slot: Slot = { index, worker, state: 'loading', loaded: new Set(), failed: new Map(), run: null, lastError: null };
    this.slots[index] = slot;
    return new Promise<void>((loaded) => {
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'loaded') {
          for (const m of msg.models) {
            if (m.ok) slot.loaded.add(m.name);
            else {
              slot.failed.set(m.name, `${m.error.name}: ${m.error.message}`);
              this.log.error('model failed to load', { worker: index, model: m.name, error: m.error.message });
            }
          }
          this.log.debug('worker loaded', { worker: index, models: msg.models.map((m) => (m.ok ? `${m.name} ${m.loadMs.toFixed(0)}ms` : `${m.name} failed`)) });
          if (slot.state === 'loading') slot.state = 'idle';
          loaded();
          this.queue.dispatch();
        } else this.finish(slot, msg);
      });
      worker.on('error', (err) => {
        slot.lastError = `${err.name}: ${err.message}`;
        this.log.error('inference worker error', { worker: index, error: err.message });
      });
      worker.on('exit', (code) => {
        loaded();
        if (this.slots[index] !== slot) return;
        this.onExit(slot, code);
      });
    });
  }

  private onExit(slot: Slot, code: number): void {
    const wasDead = slot.state === 'dead';
    slot.state = 'dead';
    const reason = slot.lastError ?? `exit code ${code}`;
    if (slot.run) {
      // Settled even while closing: shutdown waits for every job to come back.
      const { jobs } = slot.run;
      slot.run = null;
      for (const job of jobs) {
        this.settle(job, new ServerError('WorkerCrashed',
          `the inference worker running ${job.model} stopped unexpectedly (${reason}); the request was not completed, retry it`));
      }
    }
    if (this.closing || wasDead) return;
    this.log.error('inference worker stopped', { worker: slot.index, reason });
    const now = Date.now();
    while (this.restarts.length && now - this.restarts[0] > RESTART_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length >= MAX_RESTARTS) {
      this.log.error('inference workers keep stopping; not restarting', { worker: slot.index, restarts: this.restarts.length });
      this.failStranded();
      return;
    }
    this.restarts.push(now);
    void this.spawn(slot.index);
  }

  /** Queued jobs that no live worker can ever run are rejected rather than left hanging. */
  private failStranded(): void {
    if (this.slots.some((s) => s.state !== 'dead')) return;
    for (const job of this.queue.drain()) {
      this.settle(job, new ServerError('PoolUnavailable', 'no inference worker is running; the server needs a restart'));
    }
  }

  private unavailableReason(model: string): string | null {
    const live = this.slots.filter((s) => s.state !== 'dead');
    if (live.length === 0) return 'no inference worker is running; the server needs a restart';
    if (live.some((s) => s.state === 'loading' || s.loaded.has(model))) return null;
    const failure = live.map((s) => s.failed.get(model)).find((e) => e !== undefined);
    return `model ${model} failed to load${failure ? `: ${failure}` : ''}`;
  }

  /**
   * Runs that may share a worker run: same model, outputs and input dims after the first, where recognition crops
   * count by width bucket (they are zero-padded to the widest member, as the pipeline pads its own batches).
   */
  private batchKey(job: Job): string | null {
    const dims = Object.entries(job.inputs).map(([name, t]) => {
      const rest = t.dims.slice(1);
      if (this.padWidth.has(job.model) && rest.length) rest[rest.length - 1] = widthBucket(rest[rest.length - 1]);
      return `${name}:${t.datatype}:${rest.join('x')}`;
    });
    return `${job.model}|${job.outputs?.join(',') ?? '*'}|${dims.join('|')}`;
  }

  private start(slot: Slot, jobs: Job[]): void {
    const head = jobs[0];
    const now = performance.now();
    for (const job of jobs) {
      const book = this.books.get(job.model)!;
      book.queued--;
      book.inFlight++;
      book.runs++;
      job.startedAt = now;
    }
    const parts = jobs.map((j) => j.inputs);
    const first = Object.values(joinedDims(parts, this.padWidth.has(head.model)))[0];
    slot.state = 'busy';
    slot.run = {
      id: this.nextRunId++, jobs, startedAt: now, estimateMs: jobs.reduce((s, j) => s + j.estimateMs, 0),
      bucket: first ? sizeBucket(first) : 'scalar',
    };
    const message: ToWorker = { type: 'run', id: slot.run.id, model: head.model, parts, outputs: head.outputs, padLastAxis: this.padWidth.has(head.model) };
    try {
      slot.worker.postMessage(message, parts.flatMap(transferList));
    } catch {
      // Some buffers (e.g. Node's shared Buffer pool) cannot be transferred: fall back to copying.
      slot.worker.postMessage(message);
    }
    for (const job of jobs) job.inputs = {};
    this.onBatch?.(head.model, jobs.length);
  }

  private finish(slot: Slot, msg: Exclude<FromWorker, { type: 'loaded' }>): void {
    const run = slot.run;
    if (!run || run.id !== msg.id) {
      this.log.warn('worker answered a run it was not doing', { worker: slot.index, id: msg.id });
      return;
    }
    slot.run = null;
    if (slot.state === 'busy') slot.state = 'idle';
    if (msg.type === 'result') {
      const now = performance.now();
      this.books.get(run.jobs[0].model)!.latency.record(run.bucket, msg.runMs);
      run.jobs.forEach((job, i) => {
        this.onRun?.(job.model, msg.runMs, job.startedAt - job.enqueuedAt);
        this.settle(job, null, {
          outputs: msg.parts[i], queueMs: job.startedAt - job.enqueuedAt, runMs: msg.runMs, totalMs: now - job.enqueuedAt,
          batch: run.jobs.length, model: job.model,
        });
      });
    } else {
      for (const job of run.jobs) this.settle(job, toServerError(msg.error));
    }
    this.queue.dispatch();
  }

  private settle(job: Job, error: Error | null, result?: RunResult): void {
    if (job.startedAt < 0) return; // already settled
    const book = this.books.get(job.model)!;
    if (job.startedAt > 0) book.inFlight--;
    else book.queued--;
    job.startedAt = -1;
    job.detach?.();
    if (error) job.reject(error);
    else job.resolve(result!);
    if (this.closing && this.idle()) for (const w of this.drainWaiters.splice(0)) w();
  }

  private idle(): boolean {
    return this.queue.length === 0 && this.slots.every((s) => s.run === null);
  }
}

function toServerError(e: SerializedError): ServerError {
  return new ServerError(e.name === 'ModelUnavailable' ? 'ModelUnavailable' : 'InferenceFailed',
    e.name === 'ModelUnavailable' ? e.message : `the model rejected the input: ${publicMessage(e.message)}`);
}

/** Recognition width classes: 32 px steps up to 256, 64 up to 512, 128 beyond (padding costs at most about 25 %). */
export function widthBucket(width: number): number {
  const step = width <= 256 ? 32 : width <= 512 ? 64 : 128;
  return Math.ceil(width / step) * step;
}

function rowsOf(inputs: TensorMap): number {
  return Object.values(inputs)[0]?.dims[0] ?? 1;
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

function transferList(tensors: TensorMap): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors)) if (t.data.buffer instanceof ArrayBuffer) buffers.add(t.data.buffer);
  return [...buffers];
}
