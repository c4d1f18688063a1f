/**
 * What the routes, the OCR service and the metrics need from whatever runs the models: the local worker pool
 * (runtime/pool.ts) or a remote Open Inference Protocol server (runtime/remote.ts). Both queue earliest-deadline-first
 * and refuse runs that cannot meet their deadline, so scheduling behaves the same whichever runs the models.
 */
import type { PoolStatus, RunOptions, RunResult } from './pool';
import type { TensorMap } from './messages';

export interface InferenceRunner {
  run(model: string, inputs: TensorMap, options?: RunOptions): Promise<RunResult>;
  status(): PoolStatus;
  hasModel(name: string): boolean;
  isModelReady(name: string): boolean;
  isReady(): boolean;
  estimate(model: string, bucket: string): number;
  predictedWaitMs(now?: number): number;
  predictedWaitFor(deadline: number, now?: number): number;
  close(timeoutMs?: number): Promise<void>;
  /** Told about every finished run (metrics). */
  onRun: ((model: string, runMs: number, queueMs: number) => void) | null;
  /** Told how many callers shared each model run (metrics). */
  onBatch: ((model: string, callers: number) => void) | null;
}
