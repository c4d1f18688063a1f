/** Runs models on onnxruntime-node and compares outputs: shared by the variant tests and the measurement script. */
import * as ort from 'onnxruntime-node';
import type { FloatTensor, InferFn, OcrRole } from '../../core/ocr/types';
import type { Feed } from './calibration-set';

export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export async function openSession(model: Uint8Array | string, level: OptimizationLevel = 'all', threads = 1): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: level };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/** All outputs of one run, by name, as float32 (the variants keep float32 graph outputs). */
export async function runAll(session: ort.InferenceSession, feeds: Record<string, Feed>): Promise<Record<string, FloatTensor>> {
  const inputs = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor('float32', f.data, f.dims)]));
  const out = await session.run(inputs);
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { data: t.data as Float32Array, dims: [...t.dims] }]));
}

export async function runFirst(session: ort.InferenceSession, feed: Feed): Promise<FloatTensor> {
  const out = await runAll(session, { [session.inputNames[0]]: feed });
  return out[session.outputNames[0]];
}

/** An InferFn for the OCR pipeline over one session per role. */
export function sessionsInfer(sessions: Record<OcrRole, ort.InferenceSession>): InferFn {
  return (role, input) => runFirst(sessions[role], input);
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`cannot compare outputs of ${a.length} and ${b.length} values`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > m || Number.isNaN(d)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Intersection over union of the two probability maps thresholded at `thresh` (the text masks). */
export function maskIoU(a: Float32Array, b: Float32Array, thresh = 0.3): number {
  let inter = 0,
    union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] > thresh,
      y = b[i] > thresh;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union ? inter / union : 1;
}
