/** The whole OCR pass: detect text lines, cut them out, fix their orientation, read them. Inference is injected. */
import type { InferFn, OcrLine, OcrResult, RgbaImage, StageTimings } from './types';
import type { PipelineConfig } from './config';
import type { Quad } from './geometry';
import { assertRgba } from './raster';
import { detTensor } from './preprocess';
import { dbPostprocess, type DetectedBox } from './db-postprocess';
import { cropQuad } from './crop';
import { fixOrientation } from './orientation';
import { recognizeCrops } from './recognition';
import { ocrError } from './errors';

export interface RunOptions {
  /** Detector longest-side limit (default: the manifest's, 960). */
  maxSide?: number;
  /** Run the orientation classifier (default: config.useCls). */
  useCls?: boolean;
  /**
   * Asked before each model run: true stops the pass there (it rejects with OcrCancelled). A run whose answer is no
   * longer wanted (a race the edge won) must not hold the device for the next photo's work. It may answer
   * asynchronously: a worker whose model runs never yield to its event loop only hears the cancel message when
   * the question lets it.
   */
  cancelled?: () => boolean | Promise<boolean>;
  /**
   * Detect again at `maxSide` when the first detection found fewer than `belowLines` lines and finished within
   * `notAfterMs` of the pass's start: a receipt small in its photo shows six of its forty lines at 480 px, and reading
   * it again from the same decoded image costs a detection, not a second upload and a second recognition.
   */
  escalate?: Escalation;
}

export interface Escalation {
  maxSide: number;
  belowLines: number;
  notAfterMs: number;
}

export interface Detection extends DetectedBox {
  /** The line cut out upright from the original image, ready for `recognize`. */
  crop: RgbaImage;
}

export interface DetectResult {
  detections: Detection[];
  detInput: { width: number; height: number };
  timings: Pick<StageTimings, 'preprocess' | 'det' | 'postprocess'>;
}

export interface RecognizedText {
  text: string;
  score: number;
  rotated: boolean;
}

export interface RecognizeResult {
  /** One entry per crop in input order, before any score filtering. */
  texts: RecognizedText[];
  timings: Pick<StageTimings, 'cls' | 'rec'>;
}

export interface OcrPipeline {
  run(image: RgbaImage, opts?: RunOptions): Promise<OcrResult>;
  /** Detection half: boxes and crops, for callers that read the lines elsewhere. */
  detect(image: RgbaImage, opts?: RunOptions): Promise<DetectResult>;
  /** Recognition half on ready crops (orientation + recognition, no detection). */
  recognize(crops: RgbaImage[], opts?: Pick<RunOptions, 'useCls' | 'cancelled'>): Promise<RecognizeResult>;
  readonly config: PipelineConfig;
}

/** Beyond this the detector's input (and memory) grows without helping: text is already larger than it was trained on. */
export const MAX_SIDE_LIMIT = 4096;

/** `infer`, refusing to start another model run once `cancelled` says so. */
function cancellable(infer: InferFn, cancelled: RunOptions['cancelled']): InferFn {
  if (cancelled === undefined) return infer;
  return async (model, input) => {
    if (await cancelled()) throw ocrError('OcrCancelled', 'This OCR run was cancelled: its answer is no longer wanted.');
    return infer(model, input);
  };
}

export function createOcrPipeline(config: PipelineConfig, infer: InferFn, now: () => number): OcrPipeline {
  const recOptions = {
    spec: config.rec,
    charset: config.charset,
    batch: config.recBatch,
    parallel: config.recParallel,
    minWidth: config.recMinWidth,
    ctc: { spaceIndex: config.charset.lastIndexOf(' '), spaceThresh: config.spaceThresh },
  };
  async function detect(image: RgbaImage, opts: RunOptions = {}): Promise<DetectResult> {
    assertRgba(image);
    const maxSide = opts.maxSide ?? config.det.maxSide;
    if (!Number.isFinite(maxSide) || maxSide < config.det.multiple || maxSide > MAX_SIDE_LIMIT) {
      throw ocrError('OcrBadConfig', `maxSide must be a number from ${config.det.multiple} to ${MAX_SIDE_LIMIT} (got ${opts.maxSide}).`);
    }
    const t0 = now();
    const input = detTensor(image, config.det, maxSide);
    const t1 = now();
    const prob = await cancellable(infer, opts.cancelled)('det', input.tensor);
    const t2 = now();
    const [, , ph, pw] = prob.dims;
    if (prob.dims.length !== 4 || ph !== input.height || pw !== input.width || prob.data.length < ph * pw) {
      throw ocrError(
        'OcrBadModelOutput',
        `Detector returned shape [${prob.dims}] for input [${input.tensor.dims}]; expected [1, 1, ${input.height}, ${input.width}].`,
      );
    }
    const boxes = dbPostprocess({ data: prob.data, width: pw, height: ph }, image, config.db);
    const detections = boxes.map((b) => ({ ...b, crop: cropQuad(image, b.box) }));
    const t3 = now();
    return {
      detections,
      detInput: { width: input.width, height: input.height },
      timings: { preprocess: t1 - t0, det: t2 - t1, postprocess: t3 - t2 },
    };
  }

  async function recognize(crops: RgbaImage[], opts: Pick<RunOptions, 'useCls' | 'cancelled'> = {}): Promise<RecognizeResult> {
    crops.forEach((c, i) => assertRgba(c, `crop ${i}`));
    const guarded = cancellable(infer, opts.cancelled);
    const t0 = now();
    let ready = crops;
    let rotated = crops.map(() => false);
    if ((opts.useCls ?? config.useCls) && crops.length) {
      ({ crops: ready, rotated } = await fixOrientation(crops, guarded, { spec: config.cls, batch: config.clsBatch, thresh: config.clsThresh }));
    }
    const t1 = now();
    const decoded = crops.length ? await recognizeCrops(ready, guarded, recOptions) : [];
    const t2 = now();
    return {
      texts: decoded.map((d, i) => ({ text: d.text, score: d.score, rotated: rotated[i] })),
      timings: { cls: t1 - t0, rec: t2 - t1 },
    };
  }

  async function run(image: RgbaImage, opts: RunOptions = {}): Promise<OcrResult> {
    const start = now();
    const first = await detect(image, opts);
    const esc = opts.escalate;
    const fromSide = opts.maxSide ?? config.det.maxSide;
    const again = esc !== undefined && esc.maxSide > fromSide && first.detections.length < esc.belowLines && now() - start <= esc.notAfterMs;
    const det = again ? await detect(image, { ...opts, maxSide: esc.maxSide }) : first;
    if (again) for (const k of ['preprocess', 'det', 'postprocess'] as const) det.timings[k] += first.timings[k];
    const rec = await recognize(
      det.detections.map((d) => d.crop),
      opts,
    );
    const lines: OcrLine[] = [];
    det.detections.forEach((d, i) => {
      const t = rec.texts[i];
      const text = t.text.trim();
      if (!text || t.score < config.dropScore) return;
      lines.push({ box: d.box.map((p) => [p[0], p[1]]) as Quad, text, score: t.score, boxScore: d.score, rotated: t.rotated });
    });
    return {
      lines,
      timings: { ...det.timings, ...rec.timings, total: now() - start },
      detInput: det.detInput,
      image: { width: image.width, height: image.height },
      ...(again && { escalated: { fromSide, lines: first.detections.length } }),
    };
  }

  return { run, detect, recognize, config };
}
