/** Scheduling priority of this server's own threads. */
import { setPriority } from 'node:os';

/** Inference threads yield to the HTTP thread: refusals must not wait behind a model run for a core. */
export const INFERENCE_NICE = 10;
/** The pipeline thread's CPU stages sit between admission and inference. */
export const PIPELINE_NICE = 5;

/**
 * Lowers the calling thread's priority (nice value; on Linux per thread, inherited by threads it starts). Where that
 * is not allowed or not per thread, the thread keeps its priority: this is a latency refinement, not a requirement.
 */
export function lowerPriority(nice: number): void {
  if (process.platform !== 'linux') return;
  try {
    setPriority(0, nice);
  } catch {
    /* keep the default priority */
  }
}
