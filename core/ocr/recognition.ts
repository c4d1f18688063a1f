/** Text recognition over batches of line crops, decoded with greedy CTC. */
import type { InferFn, RgbaImage } from './types';
import type { LinePreprocess } from './preprocess';
import { lineBatchTensor, recBatchWidth } from './preprocess';
import { PACKED_STEP_VALUES, collapseSteps, ctcSteps, unpackCtcSteps, type CtcOptions, type CtcSteps, type DecodedText } from './ctc-decode';
import { ocrError } from './errors';

export interface RecognitionOptions {
  spec: LinePreprocess;
  charset: readonly string[];
  batch: number;
  /** Batches in flight at once (see PipelineConfig.recParallel). */
  parallel?: number;
  minWidth: number;
  ctc: CtcOptions;
}

/** One decoded text per crop, in input order. */
export async function recognizeCrops(crops: RgbaImage[], infer: InferFn, opts: RecognitionOptions): Promise<DecodedText[]> {
  const steps = await recognizeSteps(crops, infer, opts);
  return steps.map((s) => collapseSteps(s, opts.charset, opts.ctc));
}

/** The recogniser's per-step arg-max for each crop, before collapsing to text. */
export async function recognizeSteps(crops: RgbaImage[], infer: InferFn, opts: RecognitionOptions): Promise<CtcSteps[]> {
  const out: CtcSteps[] = new Array(crops.length);
  // Sorting by aspect ratio keeps each batch's padded width close to its members' own widths.
  const order = crops
    .map((c, i) => [c.width / c.height, i] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, i]) => i);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += opts.batch) batches.push(order.slice(start, start + opts.batch));
  let next = 0;
  // A failed batch fails the read: the other lanes start nothing more.
  let failed = false;
  const lane = async () => {
    try {
      while (!failed && next < batches.length) await runBatch(batches[next++]);
    } catch (e) {
      failed = true;
      throw e;
    }
  };
  const runBatch = async (idx: number[]) => {
    const batch = idx.map((i) => crops[i]);
    const width = recBatchWidth(batch, opts.spec, opts.minWidth);
    const res = await infer('rec', lineBatchTensor(batch, opts.spec, width));
    const n = idx.length;
    const [rn, steps, classes] = res.dims;
    // Either the recogniser's T × C probabilities, or the steps already packed where the model ran (packCtcSteps).
    const packed = classes === PACKED_STEP_VALUES && opts.charset.length !== PACKED_STEP_VALUES;
    if (res.dims.length !== 3 || rn !== n || (classes !== opts.charset.length && !packed) || res.data.length < n * steps * classes) {
      throw ocrError(
        'OcrBadModelOutput',
        `Recogniser returned shape [${res.dims}] for a batch of ${n}; expected [${n}, T, ${opts.charset.length}] (is the dictionary the model's own?).`,
      );
    }
    idx.forEach((i, j) => {
      out[i] = packed ? unpackCtcSteps(res.data, steps, j * steps * classes) : ctcSteps(res.data, steps, classes, opts.ctc.spaceIndex, j * steps * classes);
    });
  };
  const lanes = Math.max(1, Math.min(opts.parallel ?? 1, batches.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return out;
}
