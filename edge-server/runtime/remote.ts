/**
 * Model runs forwarded to an external Open Inference Protocol v2 server (Triton, KServe, MLServer, another Tandem edge)
 * with the binary tensor extension. Scheduling stays here: runs queue earliest-deadline-first, at most `concurrency`
 * are sent at once, and a run predicted to finish late is refused before it is sent, or dropped while queued.
 * Which models exist and their tensors come from the local manifest; the backend must serve the same names.
 */
import type { ManifestModel } from '../../core/models/manifest';
import { HEADER_LENGTH_HEADER, type NumericTensorData, type Tensor } from '../../core/protocol/oip';
import { decodeInferenceResponse, encodeInferenceRequest } from '../../core/protocol/oip-codec';
import { ServerError } from '../http/errors';
import { silentLogger, type Logger } from '../log';
import { reduceOutputs } from './batch-tensors';
import type { RuntimeTensor, TensorMap } from './messages';
import { ScheduledRunner, type Executor, type ExecutorRun, type PoolModelStatus } from './scheduled-runner';

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

interface ModelState {
  state: PoolModelStatus['state'];
  error?: string;
}

/** Concurrent requests to the backend as an executor: a slot is a free place among `concurrency`. */
class BackendSlots implements Executor<true> {
  readonly models: string[];
  readonly intraOpThreads = 0;
  /** A forwarded request can be left behind at shutdown. */
  readonly onShutdown = 'answer' as const;
  readonly url: string;
  reprobeTimer: NodeJS.Timeout | null = null;
  private readonly manifest = new Map<string, ManifestModel>();
  private readonly states = new Map<string, ModelState>();
  private readonly log: Logger;
  private inFlight = 0;

  constructor(private readonly opts: RemoteOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.log = opts.log ?? silentLogger;
    this.models = opts.models.map((m) => m.name);
    for (const m of opts.models) {
      this.manifest.set(m.name, m);
      this.states.set(m.name, { state: 'loading' });
    }
  }

  // Concurrent requests to the backend play the part of workers; threads are the backend's business.
  capacity(): number {
    return this.opts.concurrency;
  }
  slotFor(): true | null {
    return this.inFlight < this.opts.concurrency ? true : null;
  }
  state(model: string): ModelState {
    return this.states.get(model)!;
  }

  unavailable(model: string): ServerError | null {
    const s = this.states.get(model)!;
    return s.state === 'ready' ? null : new ServerError('BackendUnavailable', s.error ?? `model ${model} is not ready on the backend`);
  }

  notReady(): string[] {
    return [...this.states].filter(([, s]) => s.state !== 'ready').map(([n]) => n);
  }

  async close(): Promise<void> {
    if (this.reprobeTimer) clearInterval(this.reprobeTimer);
  }

  async execute(_: true, run: ExecutorRun): Promise<{ parts: TensorMap[]; runMs: number }> {
    this.inFlight++;
    const started = performance.now();
    try {
      const outputs = await this.request(run.model, run.parts[0], run.outputs ?? this.manifest.get(run.model)!.outputs.map((o) => o.name));
      return { parts: [run.reduce ? reduceOutputs(outputs, run.reduce) : outputs], runMs: performance.now() - started };
    } catch (e) {
      if (e instanceof ServerError && e.name === 'BackendUnreachable') this.markUnreachable(e.message);
      throw e instanceof ServerError ? e : new ServerError('BackendFailed', `the inference backend failed: ${causeOf(e)}`);
    } finally {
      this.inFlight--;
    }
  }

  async probe(names: string[]): Promise<void> {
    await Promise.all(
      names.map(async (name) => {
        const book = this.states.get(name)!;
        try {
          const res = await fetch(`${this.url}/v2/models/${encodeURIComponent(name)}/ready`, {
            headers: this.headers(),
            signal: AbortSignal.timeout(Math.min(this.opts.timeoutMs, 5000)),
          });
          await res.arrayBuffer();
          if (res.ok) {
            if (book.state !== 'ready') this.log.info('backend model ready', { model: name, backend: this.url });
            book.state = 'ready';
            delete book.error;
          } else {
            book.state = 'failed';
            book.error =
              `the inference backend ${this.url} answered ${res.status} for model ${name}` +
              (res.status === 404 ? ' (it does not serve a model of this name)' : '');
          }
        } catch (e) {
          book.state = 'failed';
          book.error = `the inference backend ${this.url} is unreachable: ${causeOf(e)}`;
        }
        if (book.state === 'failed') this.log.warn('backend model not ready', { model: name, error: book.error });
      }),
    );
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.opts.token ? { ...extra, Authorization: `Bearer ${this.opts.token}` } : extra;
  }

  /**
   * A backend that cannot be reached serves no model: later runs are refused at once (clients fall back without waiting
   * on a connect timeout) until the periodic readiness probe finds it back.
   */
  private markUnreachable(message: string): void {
    for (const [name, book] of this.states) {
      if (book.state === 'ready') this.log.warn('backend unreachable; model marked failed until it answers again', { model: name });
      book.state = 'failed';
      book.error = message;
    }
  }

  private async request(name: string, tensors: TensorMap, outputNames: string[]): Promise<TensorMap> {
    const inputs: Tensor[] = Object.entries(tensors).map(([n, t]) => ({ name: n, datatype: t.datatype, shape: t.dims, data: t.data }));
    const wire = encodeInferenceRequest(
      {
        inputs,
        outputs: outputNames.map((n) => ({ name: n, parameters: { binary_data: true } })),
      },
      { binaryInputs: true },
    );
    const headers = this.headers({ 'Content-Type': wire.contentType });
    if (wire.headerLength !== undefined) headers[HEADER_LENGTH_HEADER] = String(wire.headerLength);
    let res: Response;
    try {
      res = await fetch(`${this.url}/v2/models/${encodeURIComponent(name)}/infer`, {
        method: 'POST',
        headers,
        body: wire.body as string | Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') {
        throw new ServerError(
          'BackendTimeout',
          `the inference backend ${this.url} did not answer ${name} within ${this.opts.timeoutMs} ms (EDGE_BACKEND_TIMEOUT_MS)`,
        );
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
    for (const n of outputNames) {
      if (!out[n]) throw new ServerError('BackendFailed', `the inference backend answered ${name} without output ${n}`);
    }
    return out;
  }
}

/** The scheduled runner forwarding runs to an EDGE_BACKEND. */
export class RemoteRunner extends ScheduledRunner<true> {
  readonly url: string;

  private constructor(backend: BackendSlots) {
    super(backend);
    this.url = backend.url;
  }

  /** Asks the backend whether each model is ready; models it lacks are reported failed in status() and asked again later. */
  static async start(opts: RemoteOptions): Promise<RemoteRunner> {
    const backend = new BackendSlots(opts);
    const runner = new RemoteRunner(backend);
    await backend.probe(backend.models);
    backend.reprobeTimer = setInterval(() => {
      const failed = backend.notReady();
      if (failed.length) void backend.probe(failed);
    }, opts.reprobeMs ?? 5000);
    backend.reprobeTimer.unref();
    return runner;
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
  } catch {
    /* not JSON */
  }
  return text.trim().slice(0, 200);
}
