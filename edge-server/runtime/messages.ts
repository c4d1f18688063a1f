/** Messages between the session pool (main thread) and its inference workers. Tensor buffers travel in transfer lists. */
import type { TensorDatatype } from '../../core/models/manifest';
import type { NumericTensorData } from '../../core/protocol/oip';

export interface RuntimeTensor {
  datatype: TensorDatatype;
  dims: number[];
  data: NumericTensorData;
}

export type TensorMap = Record<string, RuntimeTensor>;

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
  | { type: 'run'; id: number; model: string; inputs: TensorMap; outputs?: string[] }
  /** Makes the worker fail as an uncaught error would, to exercise crash recovery. */
  | { type: 'crash' };

export type FromWorker =
  | { type: 'loaded'; models: Array<{ name: string; ok: true; loadMs: number } | { name: string; ok: false; error: SerializedError }> }
  | { type: 'result'; id: number; outputs: TensorMap; runMs: number }
  | { type: 'failed'; id: number; error: SerializedError };
