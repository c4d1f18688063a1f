/**
 * EXAMPLE profiles: an illustration of the profiles.json schema for tests, benchmarks and a first start before the
 * profiler has run. Not the output of our profiler.
 *
 * Where the figures come from:
 * - Latency medians (p50): single-request runs on a 2-core x86 machine without GPU, measured with standalone scripts
 *   before the profiler existed: onnxruntime-web 1.30 WASM, 2 threads, cross-origin isolated, Chromium 156 (device); onnxruntime-node 1.30 with
 *   2 intra-op threads (edge); HTTP overhead of a Hono server on loopback by request size; sharp decode; session
 *   creation times. Those runs were medians of 10 with ±10–20 % noise.
 * - p90s are ASSUMED (p50 × 1.15 where only a median was noted; the noted range's upper end otherwise).
 * - Browser decode/resize use the noted ranges for a 1280×720 image; device re-encode, postprocess and the edge's
 *   preprocess were not measured: ASSUMED.
 * - Accuracy and re-encode recall factors are ASSUMED placeholders, anchored only on the measured end-to-end word
 *   recall of an ort-node PP-OCRv4 peer on the dev set (0.807); lines per image is ASSUMED.
 * - Split-detector activation bytes follow from the measured cut tensor shapes at 960×544; the head's share of
 *   compute (half the convolutions) is ASSUMED.
 */
import type { LatencyStats, Profiles } from '../profiles';

/** A noted median with the assumed 15 % tail. */
function med(p50: number, p90 = p50 * 1.15): LatencyStats {
  return { n: 10, p50, p90 };
}

const PX320 = 320 * 320;
const PX640 = 640 * 640;
const PX960 = 960 * 960;
const PX_960x544 = 960 * 544;
const PX_1280x720 = 1280 * 720;

const DET = 'ppocr-det@fp32';
const DET_INT8 = 'ppocr-det@int8-weights';
const REC = 'ppocr-rec@fp32';
const CLS = 'ppocr-cls@fp32';

export const EXAMPLE_PROFILES: Profiles = {
  schema: 1,
  source: {
    kind: 'example',
    description:
      'Illustrative profiles for tests and first start: toolchain-probe medians (WASM 2 threads in Chromium; onnxruntime-node 2 threads) with assumed tails, assumed accuracy. Not measured by the Tandem profiler.',
  },
  models: [
    { id: DET, name: 'ppocr-det', variant: 'fp32', role: 'det', weightBytes: 4_745_517 },
    { id: DET_INT8, name: 'ppocr-det', variant: 'int8-weights', role: 'det', weightBytes: 1_285_000 },
    { id: REC, name: 'ppocr-rec', variant: 'fp32', role: 'rec', weightBytes: 10_822_323 },
    { id: CLS, name: 'ppocr-cls', variant: 'fp32', role: 'cls', weightBytes: 578_966 },
  ],
  runtimes: [
    {
      id: 'device-wasm-2t',
      location: 'device',
      backend: 'wasm',
      threads: 2,
      stages: [
        { stage: 'decode', unit: 'image-pixels', points: [{ x: PX_1280x720, stats: { n: 10, p50: 20, p90: 66 } }] },
        // Decoding the original, resizing and encoding together, as the worker does it.
        { stage: 'reencode', unit: 'image-pixels', points: [{ x: PX_1280x720, stats: { n: 0, p50: 45, p90: 116 } }] },
        { stage: 'det-preprocess', unit: 'det-pixels', points: [{ x: PX_960x544, stats: { n: 10, p50: 40, p90: 117 } }] },
        { stage: 'postprocess', unit: 'det-pixels', points: [{ x: PX_960x544, stats: { n: 0, p50: 15, p90: 30 } }] },
        ...[DET, DET_INT8].map((model) => ({
          stage: 'det' as const,
          model,
          unit: 'det-pixels' as const,
          points: [
            { x: PX320, stats: med(35.5) },
            { x: PX640, stats: med(138.3) },
            { x: PX960, stats: med(316.8) },
          ],
        })),
        {
          stage: 'rec',
          model: REC,
          unit: 'lines',
          points: [
            { x: 1, stats: med(36.1) },
            { x: 8, stats: med(287.1) },
          ],
        },
        { stage: 'cls', model: CLS, unit: 'lines', points: [{ x: 1, stats: med(1.7) }] },
        { stage: 'create', model: DET, unit: 'once', points: [{ x: 1, stats: { n: 10, p50: 1000, p90: 1300 } }] },
        { stage: 'create', model: DET_INT8, unit: 'once', points: [{ x: 1, stats: { n: 10, p50: 1000, p90: 1300 } }] },
        { stage: 'create', model: REC, unit: 'once', points: [{ x: 1, stats: { n: 10, p50: 300, p90: 400 } }] },
        { stage: 'create', model: CLS, unit: 'once', points: [{ x: 1, stats: { n: 0, p50: 100, p90: 150 } }] },
        { stage: 'first-run-extra', model: DET, unit: 'once', points: [{ x: 1, stats: { n: 0, p50: 120, p90: 300 } }] },
        { stage: 'first-run-extra', model: DET_INT8, unit: 'once', points: [{ x: 1, stats: { n: 0, p50: 120, p90: 300 } }] },
        { stage: 'first-run-extra', model: REC, unit: 'once', points: [{ x: 1, stats: { n: 0, p50: 50, p90: 120 } }] },
      ],
    },
    {
      id: 'edge-ort-node-2t',
      location: 'edge',
      backend: 'ort-node',
      threads: 2,
      stages: [
        { stage: 'decode', unit: 'image-pixels', points: [{ x: PX_1280x720, stats: { n: 10, p50: 23, p90: 26 } }] },
        { stage: 'det-preprocess', unit: 'det-pixels', points: [{ x: PX_960x544, stats: { n: 0, p50: 15, p90: 25 } }] },
        { stage: 'postprocess', unit: 'det-pixels', points: [{ x: PX_960x544, stats: { n: 0, p50: 10, p90: 20 } }] },
        {
          stage: 'request',
          unit: 'bytes',
          points: [
            { x: 1_230_000, stats: med(9.3) },
            { x: 4_920_000, stats: med(20.0) },
            { x: 11_060_000, stats: med(40.4) },
          ],
        },
        ...[DET, DET_INT8].map((model) => ({
          stage: 'det' as const,
          model,
          unit: 'det-pixels' as const,
          points: [
            { x: PX320, stats: med(13.5) },
            { x: PX640, stats: med(57.6) },
            { x: PX960, stats: med(144.6) },
          ],
        })),
        {
          stage: 'rec',
          model: REC,
          unit: 'lines',
          points: [
            { x: 1, stats: med(15.9) },
            { x: 8, stats: med(124.1) },
          ],
        },
        { stage: 'cls', model: CLS, unit: 'lines', points: [{ x: 1, stats: med(1.1) }] },
        { stage: 'create', model: DET, unit: 'once', points: [{ x: 1, stats: med(80) }] },
        { stage: 'create', model: REC, unit: 'once', points: [{ x: 1, stats: med(85) }] },
        { stage: 'create', model: CLS, unit: 'once', points: [{ x: 1, stats: med(22) }] },
      ],
    },
  ],
  accuracy: [
    { det: DET, maxSide: 960, rec: REC, wordRecall: 0.8 },
    { det: DET, maxSide: 640, rec: REC, wordRecall: 0.74 },
    { det: DET, maxSide: 320, rec: REC, wordRecall: 0.58 },
    { det: DET_INT8, maxSide: 960, rec: REC, wordRecall: 0.792 },
    { det: DET_INT8, maxSide: 640, rec: REC, wordRecall: 0.733 },
    { det: DET_INT8, maxSide: 320, rec: REC, wordRecall: 0.574 },
  ],
  reencode: [
    { maxSide: 960, quality: 0.8, bitsPerPixel: 1.5, recallFactor: 0.95 },
    { maxSide: 1280, quality: 0.8, bitsPerPixel: 1.4, recallFactor: 0.98 },
    { maxSide: 1600, quality: 0.9, bitsPerPixel: 1.9, recallFactor: 0.995 },
  ],
  splits: [
    // Cut after the 31st of 62 convolutions: four activations cross it ([1,48,H/4,W/4] … [1,384,H/32,W/32], fp32).
    { id: 'det-mid', det: DET, headShare: 0.5, activationBytesPerPixel: 22.5 },
  ],
  transfer: {
    responseBytes: { base: 600, perLine: 160 },
    // One fp32 recognition input (3×48×320) per line over the binary inference protocol.
    cropBytesPerLine: 3 * 48 * 320 * 4,
    boxesBytes: { base: 200, perLine: 80 },
  },
  content: { linesPerImage: { mean: 8, sd: 6 } },
  defaults: { det: DET, maxSide: 960, rec: REC, cls: CLS },
};
