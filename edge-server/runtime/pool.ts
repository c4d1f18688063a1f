/**
 * Local worker slots for the scheduled runner (runtime/scheduled-runner.ts): worker threads, each holding one
 * onnxruntime-node session per model. session.run() blocks its thread, so parallelism comes from workers; the runner's
 * one queue feeds them earliest-deadline-first. A worker that dies fails the run it held and is replaced.
 * Input buffers are transferred to the worker (the caller gives them up), outputs are transferred back.
 */
import { Worker } from 'node:worker_threads';
import { ServerError, publicMessage } from '../http/errors';
import { silentLogger, type Logger } from '../log';
import type { BatchPolicy } from '../scheduler/deadline-queue';
import { ScheduledRunner, type Executor, type ExecutorRun, type PoolModelStatus } from './scheduled-runner';
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

interface Slot {
  index: number;
  worker: Worker;
  state: 'loading' | 'idle' | 'busy' | 'dead';
  loaded: Set<string>;
  failed: Map<string, string>;
  /** The run on this worker. */
  run: { id: number; model: string; resolve: (r: { parts: TensorMap[]; runMs: number }) => void; reject: (e: Error) => void } | null;
  lastError: string | null;
}

const WORKER_ENTRY = new URL('./session-worker.mjs', import.meta.url);
/** More restarts than this within RESTART_WINDOW_MS means something is structurally wrong: stop respawning. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

/** The worker threads as an executor: a slot is one idle worker that has the model loaded. */
class WorkerSlots implements Executor<Slot> {
  readonly models: string[];
  readonly intraOpThreads: number;
  readonly onShutdown = 'wait' as const;
  /** The runner: told when a worker becomes free or loaded, and when no worker will ever run again. */
  listener: { dispatch(): void; stranded(error: Error): void } | null = null;
  readonly firstLoad: Promise<void>;
  private readonly slots: Slot[] = [];
  private readonly restarts: number[] = [];
  private readonly log: Logger;
  private nextRunId = 1;

  constructor(private readonly options: PoolOptions) {
    this.models = options.models.map((m) => m.name);
    this.intraOpThreads = options.intraOpThreads;
    this.log = options.log ?? silentLogger;
    const loads: Promise<void>[] = [];
    for (let i = 0; i < options.workers; i++) loads.push(this.spawn(i));
    this.firstLoad = Promise.all(loads).then(() => undefined);
  }

  capacity(): number {
    return this.slots.filter((s) => s.state !== 'dead').length;
  }

  slotFor(model: string): Slot | null {
    return this.slots.find((s) => s.state === 'idle' && s.loaded.has(model)) ?? null;
  }

  unavailable(model: string): ServerError | null {
    const live = this.slots.filter((s) => s.state !== 'dead');
    if (live.length === 0) return new ServerError('ModelUnavailable', 'no inference worker is running; the server needs a restart');
    if (live.some((s) => s.state === 'loading' || s.loaded.has(model))) return null;
    const failure = live.map((s) => s.failed.get(model)).find((e) => e !== undefined);
    return new ServerError('ModelUnavailable', `model ${model} failed to load${failure ? `: ${failure}` : ''}`);
  }

  state(model: string): { state: PoolModelStatus['state']; error?: string } {
    const live = this.slots.filter((s) => s.state !== 'dead');
    if (live.some((s) => s.loaded.has(model))) return { state: 'ready' };
    const allReported = live.length > 0 && live.every((s) => s.state !== 'loading');
    if (!allReported && live.length > 0) return { state: 'loading' };
    const failure = live.map((s) => s.failed.get(model)).find((e) => e !== undefined);
    return { state: 'failed', error: failure ?? 'no inference worker is running' };
  }

  execute(slot: Slot, run: ExecutorRun): Promise<{ parts: TensorMap[]; runMs: number }> {
    return new Promise((resolve, reject) => {
      const id = this.nextRunId++;
      slot.state = 'busy';
      slot.run = { id, model: run.model, resolve, reject };
      const message: ToWorker = { type: 'run', id, model: run.model, parts: run.parts, outputs: run.outputs, padLastAxis: run.padLastAxis, reduce: run.reduce };
      try {
        slot.worker.postMessage(message, run.parts.flatMap(transferList));
      } catch {
        // Some buffers (e.g. Node's shared Buffer pool) cannot be transferred: fall back to copying.
        slot.worker.postMessage(message);
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async (s) => {
        s.state = 'dead';
        await s.worker.terminate();
      }),
    );
  }

  crash(index: number): void {
    const slot = this.slots[index];
    if (!slot || slot.state === 'dead') throw new RangeError(`no live worker ${index}`);
    slot.worker.postMessage({ type: 'crash' } satisfies ToWorker);
  }

  private spawn(index: number): Promise<void> {
    const worker = new Worker(WORKER_ENTRY, {
      workerData: { index, models: this.options.models, intraOpThreads: this.intraOpThreads },
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
          this.listener?.dispatch();
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

  private finish(slot: Slot, msg: Exclude<FromWorker, { type: 'loaded' }>): void {
    const run = slot.run;
    if (!run || run.id !== msg.id) {
      this.log.warn('worker answered a run it was not doing', { worker: slot.index, id: msg.id });
      return;
    }
    slot.run = null;
    if (slot.state === 'busy') slot.state = 'idle';
    if (msg.type === 'result') run.resolve({ parts: msg.parts, runMs: msg.runMs });
    else run.reject(toServerError(msg.error));
  }

  private onExit(slot: Slot, code: number): void {
    const wasDead = slot.state === 'dead';
    slot.state = 'dead';
    const reason = slot.lastError ?? `exit code ${code}`;
    if (slot.run) {
      // Answered even while closing: shutdown waits for every run to come back.
      const { reject, model } = slot.run;
      slot.run = null;
      reject(
        new ServerError('WorkerCrashed', `the inference worker running ${model} stopped unexpectedly (${reason}); the request was not completed, retry it`),
      );
    }
    if (wasDead) return;
    this.log.error('inference worker stopped', { worker: slot.index, reason });
    const now = Date.now();
    while (this.restarts.length && now - this.restarts[0] > RESTART_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length >= MAX_RESTARTS) {
      this.log.error('inference workers keep stopping; not restarting', { worker: slot.index, restarts: this.restarts.length });
      // Queued runs that no live worker can ever run are answered rather than left hanging.
      if (this.slots.every((s) => s.state === 'dead')) {
        this.listener?.stranded(new ServerError('PoolUnavailable', 'no inference worker is running; the server needs a restart'));
      }
      return;
    }
    this.restarts.push(now);
    void this.spawn(slot.index);
  }
}

/** The scheduled runner over local worker threads. */
export class SessionPool extends ScheduledRunner<Slot> {
  readonly workers: number;
  readonly intraOpThreads: number;
  private readonly slots: WorkerSlots;

  private constructor(options: PoolOptions) {
    const slots = new WorkerSlots(options);
    super(slots, { batching: options.batching, padWidthModels: options.padWidthModels });
    this.slots = slots;
    this.workers = options.workers;
    this.intraOpThreads = options.intraOpThreads;
    slots.listener = { dispatch: () => this.dispatch(), stranded: (error) => this.failQueued(error) };
  }

  /** Starts the workers and resolves once every worker has tried to load every model (failures show in status()). */
  static async start(options: PoolOptions): Promise<SessionPool> {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError('workers must be an integer >= 1');
    const pool = new SessionPool(options);
    await pool.slots.firstLoad;
    return pool;
  }

  /**
   * Makes one worker fail as an uncaught error would (crash drill): work already sent to it fails with WorkerCrashed
   * and the pool replaces it. Worker.terminate() is not used for this because terminating a thread inside a native
   * session.run() aborts the whole process.
   */
  crashWorker(index: number): void {
    this.slots.crash(index);
  }
}

function toServerError(e: SerializedError): ServerError {
  return new ServerError(
    e.name === 'ModelUnavailable' ? 'ModelUnavailable' : 'InferenceFailed',
    e.name === 'ModelUnavailable' ? e.message : `the model rejected the input: ${publicMessage(e.message)}`,
  );
}

function transferList(tensors: TensorMap): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors)) if (t.data.buffer instanceof ArrayBuffer) buffers.add(t.data.buffer);
  return [...buffers];
}
