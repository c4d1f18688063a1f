/** Whole-image OCR on the edge: the shared core/ocr pipeline with its inference running on the session pool. */
import { readFileSync } from 'node:fs';
import { pipelineConfigFromManifest, type PipelineConfig, type RunOptions } from '../../core/ocr';
import type { FloatTensor, InferFn, OcrResult, OcrRole, RgbaImage } from '../../core/ocr/types';
import { ServerError } from '../http/errors';
import { LatencyTracker, sizeBucket } from '../runtime/latency';
import { PipelineThread } from '../runtime/pipeline-thread-host';
import { estimateFor, predictInProgressWait, type Scheduled } from '../scheduler/edf';
import type { ModelRepository } from '../model-repository';
import type { InferenceRunner } from '../runtime/scheduled-runner';
import type { OutputReduction } from '../runtime/messages';
import { RunWaits } from './run-waits';

export interface OcrRun {
  result: OcrResult;
  /** Time this request's model runs spent waiting rather than running (for a free worker, in hand-offs). */
  queueMs: number;
  /** Most callers that shared one of this request's model runs (dynamic batching; 1 = every run alone). */
  batch: number;
  /** The models that ran (differ from the configured ones when the request accepted alternatives). */
  models: Record<OcrRole, string>;
}

/** Detectors and recognisers a request accepts, with expected accuracy; the pool picks across its queue per run. */
export type OcrModelChoice = Partial<Record<'det' | 'rec', ReadonlyArray<{ model: string; accuracy: number }>>>;

export interface OcrService {
  readonly config: PipelineConfig;
  /**
   * `deadline` (absolute performance.now() time) is passed to every model run. The request was admitted as a whole on
   * arrival, so its runs are not tested again when queued; a run that becomes late is dropped and fails the request,
   * unless `lateWanted`: then the request is finished, its runs once late queued behind those still in time.
   * `options.escalate` is honoured only when no other whole-image request is in progress.
   */
  run(image: RgbaImage, options: RunOptions, deadline?: number, accept?: OcrModelChoice, signal?: AbortSignal, lateWanted?: boolean): Promise<OcrRun>;
  /** Predicted execution time (without queueing) of a whole-image run, from measured runs; 0 before any. */
  estimate(width: number, height: number, options: RunOptions): number;
  /** The fastest measured whole-image run: a lower bound used before the image is decoded. */
  minEstimate(): number;
  /**
   * Predicted wait before a request with `deadline` gets its turn: the remaining estimated work of the whole-image
   * requests in progress that EDF serves first, spread over the workers. Their later stages are not queued in the
   * pool yet, so the pool alone would underestimate this.
   */
  predictedWait(deadline: number, now: number): number;
  /** Stops the pipeline thread (after the pool has drained). */
  close(): Promise<void>;
}

export function createOcrService(repo: ModelRepository, pool: InferenceRunner, now: () => number = () => performance.now()): OcrService {
  const recName = repo.manifest.models.find((m) => m.task === 'text-recognition' && m.assets.dictionary)?.name;
  const dictionary = recName ? repo.models.get(recName)!.assets.dictionary : undefined;
  if (!dictionary) throw new ServerError('ModelUnavailable', 'the manifest has no recogniser with a dictionary asset; rebuild with "npm run models"');
  // A lone receipt's recognition batches run on every worker slot at once rather than one after another on one.
  const config = pipelineConfigFromManifest(repo.manifest, readFileSync(repo.files.get(dictionary.path)!.absolutePath, 'utf8'), {
    models: { rec: recName },
    recParallel: Math.max(1, pool.status().pool.workers),
  });
  const ctcReduce: OutputReduction = { kind: 'ctc-steps', spaceIndex: config.charset.lastIndexOf(' ') };
  const io = {} as Record<OcrRole, { input: string; output: string }>;
  for (const role of ['det', 'cls', 'rec'] as const) {
    const m = repo.models.get(config.models[role])!;
    io[role] = { input: m.inputs[0].name, output: m.outputs[0].name };
  }

  // Execution time depends on the options (classifier, detector size) and the image size; text amount is not known up front.
  const measured = new Map<string, LatencyTracker>();
  const variant = (o: RunOptions) => `${o.maxSide ?? 'default'}/${o.useCls ? 'cls' : 'nocls'}`;

  const inProgress = new Set<Scheduled & { startedAt: number }>();
  let seq = 0;
  // Pre- and post-processing run in their own thread so that admission on this one answers within milliseconds.
  const thread = new PipelineThread(config);

  return {
    config,
    close: () => thread.close(),
    predictedWait(deadline, at) {
      return predictInProgressWait(at, pool.status().pool.workers, inProgress, deadline);
    },
    estimate(width, height, options) {
      const tracker = measured.get(variant(options));
      // The recent p90, not the mean: admitting on the mean would let about half the admitted requests run late.
      // With nothing in progress the EWMA: an idle server tries again after a slow spell instead of refusing forever
      // on a p90 that only admitted requests could bring down.
      return (tracker && estimateFor(tracker.estimates(inProgress.size ? 'p90' : 'ewma'), sizeBucket([height, width]))) ?? 0;
    },
    minEstimate() {
      let min = Infinity;
      for (const t of measured.values()) for (const ms of t.estimates('p90').values()) min = Math.min(min, ms);
      return min === Infinity ? 0 : min;
    },
    async run(image, requested, deadline, accept, signal, lateWanted = false) {
      const started = now();
      // Only an otherwise idle edge detects again: a second detection is work nobody admitted, and requests taken
      // meanwhile would wait behind it.
      const { escalate, ...alone } = requested;
      const options = escalate && inProgress.size > 0 ? alone : requested;
      const entry = {
        deadline: deadline ?? Infinity,
        estimateMs: this.estimate(image.width, image.height, options),
        seq: seq++,
        startedAt: started,
      };
      inProgress.add(entry);
      try {
        return await runPipeline(image, options, deadline, started, accept, signal, lateWanted);
      } finally {
        inProgress.delete(entry);
      }
    },
  };

  async function runPipeline(
    image: RgbaImage,
    options: RunOptions,
    deadline: number | undefined,
    started: number,
    accept: OcrModelChoice = {},
    signal?: AbortSignal,
    lateWanted = false,
  ): Promise<OcrRun> {
    // Per role, so each stage's time can be reported without the waits for a worker inside it.
    const waits: Record<OcrRole, RunWaits> = { det: new RunWaits(), cls: new RunWaits(), rec: new RunWaits() };
    let batch = 1;
    // The first run of a role picks among the accepted models; later runs of that role (recognition batches) keep
    // its pick, so one reply names one configuration: runs issued while the first is out wait for its pick.
    const ran: Partial<Record<OcrRole, string>> = {};
    const firstRun: Partial<Record<OcrRole, Promise<void>>> = {};
    // The pool takes ownership of each input tensor (its buffer is transferred to a worker); the pipeline
    // does not read a tensor after handing it to infer.
    const infer: InferFn = async (role, tensor) => {
      const asked = now();
      const first = firstRun[role];
      let picked: (() => void) | undefined;
      if (first === undefined) firstRun[role] = new Promise<void>((resolve) => (picked = resolve));
      else await first;
      try {
        return await inferAs(role, tensor, asked);
      } finally {
        picked?.();
      }
    };
    const inferAs = async (role: OcrRole, tensor: FloatTensor, asked: number): Promise<FloatTensor> => {
      const { input, output } = io[role];
      const choice = role === 'cls' || ran[role] ? undefined : accept[role];
      const model = ran[role] ?? choice?.[0]?.model ?? config.models[role];
      // Recognition outputs are reduced to the CTC steps where the model ran: a few hundred bytes per line cross the
      // threads instead of T × 6625 probabilities (about 1 MB per 320-px crop).
      const reduce = role === 'rec' ? ctcReduce : undefined;
      const r = await pool.run(
        model,
        { [input]: { datatype: 'FP32', dims: tensor.dims, data: tensor.data } },
        { outputs: [output], deadline, accept: choice, admitted: deadline !== undefined, keepLate: lateWanted, signal, reduce },
      );
      ran[role] = r.model ?? model;
      // Everything but session.run() itself: the wait for a worker, hand-offs between threads, batching partners.
      const answered = now();
      waits[role].add(asked, answered - r.runMs, answered);
      batch = Math.max(batch, r.batch);
      const out = r.outputs[output];
      if (!(out?.data instanceof Float32Array)) {
        throw new ServerError('InferenceFailed', `${config.models[role]} returned no FP32 ${output} output`);
      }
      const result: FloatTensor = { data: out.data, dims: out.dims };
      return result;
    };
    const result = await thread.run(image, options, infer, lateWanted ? Infinity : deadline, signal);
    // The stages' timings are wall time around their model runs; the time those runs waited behind other requests'
    // runs is reported once, as queue, so a client learns the edge's speed from its stages and its load from the queue.
    const t = result.timings;
    const queuedBy = { det: waits.det.waitedMs(), cls: waits.cls.waitedMs(), rec: waits.rec.waitedMs() };
    const queueMs = queuedBy.det + queuedBy.cls + queuedBy.rec;
    t.det = Math.max(0, t.det - queuedBy.det);
    t.cls = Math.max(0, t.cls - queuedBy.cls);
    t.rec = Math.max(0, t.rec - queuedBy.rec);
    // A run that detected twice is no sample of its side's time (nor of the larger side's).
    const key = variant(options);
    if (!measured.has(key)) measured.set(key, new LatencyTracker());
    if (result.escalated === undefined) measured.get(key)!.record(sizeBucket([image.height, image.width]), now() - started - queueMs);
    return { result, queueMs, batch, models: { ...config.models, ...ran } };
  }
}
