/** Messages between the session pool (main thread) and its inference workers. Tensor buffers travel in transfer lists. */
import type { TensorDatatype } from '../../core/models/manifest';
import type { NumericTensorData } from '../../core/protocol/oip';

export interface RuntimeTensor {
  datatype: TensorDatatype;
  dims: number[];
  data: NumericTensorData;
}

export type TensorMap = Record<string, RuntimeTensor>;

/**
 * What the caller needs of an output, when less than all of it: `ctc-steps` keeps the recogniser's per-step best class,
 * its probability and the space class's probability (core/ocr packCtcSteps), so a few hundred bytes per line cross
 * threads instead of T × C probabilities.
 */
export type OutputReduction = { kind: 'ctc-steps'; spaceIndex: number };

export interface WorkerModel {
  name: string;
  /** Absolute path of the .onnx file. */
  path: string;
}

export interface WorkerInit {
  index: number;
  models: WorkerModel[];
  intraOpThreads: number;
}

export interface SerializedError {
  name: string;
  message: string;
}

export type ToWorker =
  /**
   * One model run over the inputs of one or more callers (`parts`), joined along the first axis; with `padLastAxis`
   * inputs narrower than the widest are zero-padded on the right (recognition crops of a common width bucket).
   */
  | { type: 'run'; id: number; model: string; parts: TensorMap[]; outputs?: string[]; padLastAxis?: boolean; reduce?: OutputReduction }
  /** Makes the worker fail as an uncaught error would, to exercise crash recovery. */
  | { type: 'crash' };

export type FromWorker =
  | { type: 'loaded'; models: Array<{ name: string; ok: true; loadMs: number } | { name: string; ok: false; error: SerializedError }> }
  /** Outputs split back along the first axis, one map per part, in the order of the run's parts. */
  | { type: 'result'; id: number; parts: TensorMap[]; runMs: number }
  | { type: 'failed'; id: number; error: SerializedError };
