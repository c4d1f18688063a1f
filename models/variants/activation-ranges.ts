/**
 * Observed value ranges of a model's float tensors on given inputs: every float tensor is exposed as an extra graph
 * output and the model is run on onnxruntime-node. Feeds static quantisation (activation scales) and the fp16
 * overflow check (half precision tops out at 65504).
 */
import * as ort from 'onnxruntime-node';
import { DT, cloneModel, encodeModel, graphOf, inferElemTypes, valueInfo, type ModelProto } from './onnx-graph';
import type { Feed } from './calibration-set';

export interface TensorRange {
  min: number;
  max: number;
  /** |value| at the given percentile over all inputs (when requested), else max |value|. */
  absPercentile: number;
}

export interface RangeOptions {
  /** Tensors to observe (default: every float tensor a non-Constant node writes). */
  tensors?: string[];
  /** Percentile of |value| to report in `absPercentile` (e.g. 99.99); default 100. */
  percentile?: number;
}

const BINS = 2048;

function unbatch(feed: Feed): Feed[] {
  const [n, ...rest] = feed.dims;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => ({ data: feed.data.subarray(i * size, (i + 1) * size), dims: [1, ...rest] }));
}

/** Min/max per tensor, and a |value| histogram when a percentile is asked for (two passes over the inputs). */
export async function activationRanges(source: ModelProto, feeds: Feed[], opts: RangeOptions = {}): Promise<Map<string, TensorRange>> {
  const model = cloneModel(source);
  const graph = graphOf(model);
  const types = inferElemTypes(graph);
  const existing = new Set((graph.output ?? []).map((v) => v.name));
  const names =
    opts.tensors ??
    graph.node
      .filter((n) => n.opType !== 'Constant')
      .flatMap((n) => n.output ?? [])
      .filter((o) => o && types.get(o) === DT.FLOAT);
  // Shapes unknown: ValueInfo with an element type and no shape field.
  graph.output = [...(graph.output ?? []), ...names.filter((n) => !existing.has(n)).map((n) => valueInfo(n, DT.FLOAT))];
  const session = await ort.InferenceSession.create(encodeModel(model), {
    // No fusions: a fused-away tensor could not be observed.
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const ranges = new Map<string, TensorRange>(names.map((n) => [n, { min: Infinity, max: -Infinity, absPercentile: 0 }]));
  const run = async (feed: Feed) => session.run({ [session.inputNames[0]]: new ort.Tensor('float32', feed.data, feed.dims) }, names);
  // One sample at a time: every intermediate of a whole batch at once can take gigabytes.
  feeds = feeds.flatMap(unbatch);
  try {
    for (const feed of feeds) {
      const out = await run(feed);
      for (const name of names) {
        const data = out[name].data as Float32Array;
        const r = ranges.get(name)!;
        for (let i = 0; i < data.length; i++) {
          const v = data[i];
          if (v < r.min) r.min = v;
          if (v > r.max) r.max = v;
        }
      }
    }
    for (const r of ranges.values()) r.absPercentile = Math.max(Math.abs(r.min), Math.abs(r.max));
    const pct = opts.percentile ?? 100;
    if (pct < 100) {
      const hist = new Map(names.map((n) => [n, new Float64Array(BINS)]));
      for (const feed of feeds) {
        const out = await run(feed);
        for (const name of names) {
          const data = out[name].data as Float32Array;
          const h = hist.get(name)!;
          const top = ranges.get(name)!.absPercentile;
          if (top === 0) continue;
          const k = BINS / top;
          for (let i = 0; i < data.length; i++) h[Math.min(BINS - 1, Math.floor(Math.abs(data[i]) * k))]++;
        }
      }
      for (const name of names) {
        const r = ranges.get(name)!;
        const h = hist.get(name)!;
        const total = h.reduce((a, b) => a + b, 0);
        let acc = 0;
        for (let b = 0; b < BINS; b++) {
          acc += h[b];
          if (acc >= (total * pct) / 100) {
            r.absPercentile = ((b + 1) / BINS) * r.absPercentile;
            break;
          }
        }
      }
    }
  } finally {
    await session.release();
  }
  return ranges;
}
