/** Tandem's own endpoints beside the Open Inference Protocol: whole-pipeline OCR and the status the clients predict the edge from. */
import type { OcrResult } from '../ocr/types';
import type { OcrConfig } from './accept';

export { BUDGET_HEADER } from './headers';

/** POST /v1/ocr reply body. Timings are server-side; the same stages are sent as `Server-Timing`. */
export interface OcrResponse extends OcrResult {
  /** Server-side stages including image decode, in milliseconds. */
  server: { decode: number; queue: number; total: number };
  /** The models that ran (they differ from the server's defaults when the request accepted alternatives). */
  models: { det: string; cls: string; rec: string };
  /** The whole-image configuration that ran; also sent as `x-tandem-config` (core/protocol/accept.ts). */
  config?: OcrConfig;
}

/** Weight of each new run in a latency bucket's `ewmaMs` (the first run is taken whole). */
export const LATENCY_EWMA_ALPHA = 0.2;

export interface LatencyBucket {
  /** Input size class, e.g. detector input pixels rounded to a bucket label like "640x480". */
  size: string;
  count: number;
  /** Exponentially weighted mean of the bucket's runs (LATENCY_EWMA_ALPHA). */
  ewmaMs: number;
  p90Ms: number;
}

export interface ModelStatus {
  name: string;
  version: string;
  variant: string;
  state: 'loading' | 'ready' | 'failed';
  error?: string;
  inFlight: number;
  queued: number;
  latency: LatencyBucket[];
  /** Predicted wait before a run of this model submitted now (without a budget) would start, in milliseconds. */
  predictedWaitMs?: number;
  /** Runs handed to an inference worker since start. */
  runs?: number;
  /** Runs refused or dropped because they could not meet their budget. */
  refused?: number;
}

/** GET /v1/status reply body. */
export interface StatusResponse {
  serverTime: number;
  uptimeMs: number;
  models: ModelStatus[];
  pool: { workers: number; intraOpThreads: number; busy: number; queued: number };
  /**
   * Whole-image OCR (/v1/ocr): requests admitted and not yet answered, the predicted wait before a request arriving
   * now with a budget would be through those it does not go ahead of, and the factor the server's admission scales its own estimates by while requests are
   * in progress (measured response times over predicted ones; 1.5 before it has evidence, 1 when its schedule has
   * been right).
   */
  ocr?: { inProgress: number; predictedWaitMs: number; calibration: number };
}

/** Every error body, on every route. */
export interface ErrorBody {
  error: string;
  /** Machine-readable error code (e.g. "UnknownModel", "ImageCorrupt"), the same as `error.name` on the server. */
  code?: string;
  /** DeadlineUnmeetable: the server's predicted time to finish, from when it answered, in milliseconds. */
  predicted_ms?: number;
  /** DeadlineUnmeetable: the budget the request had left when it was refused, in milliseconds. */
  budget_ms?: number;
}

/** POST /v1/probe reply body: the bytes that arrived and how long reading them took. */
export interface ProbeReply {
  bytes: number;
  readMs: number;
}
