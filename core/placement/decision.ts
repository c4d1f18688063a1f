/** What decide() returns and what observe() is told afterwards. */
import type { EdgeEscalation } from './escalation';
import type { RefusalInfo } from './estimators/edge';
import type { Plan } from './plan-space';
import type { PredictedStage, Prediction } from './plans';
import type { ConstraintCode, ReasonCode } from './reasons';
import type { PolicyName } from './policies/policy';

export interface Decision {
  policy: PolicyName;
  plan: Plan;
  reason: ReasonCode;
  /** Constraints that ruled out at least one plan for this request. */
  constraints: ConstraintCode[];
  atMs: number;
  budgetMs: number;
  /** True when the plan's p95 is within the budget. */
  fits: boolean;
  predicted: Prediction & { stages: PredictedStage[] };
  /** The latency the policy itself expected (baselines use their own estimators); its prediction error is recorded. */
  policyEstimateMs: number;
  /** For a race: when to start the device run, from the start of the request. */
  raceStartAtMs: number | null;
  /** Models the plan downloads before it runs on the device (a variant set the device does not hold), else null. */
  fetch: ModelFetch | null;
  /**
   * The eligible plan predicted to read the most of this photo (the fastest of equals), whatever its time: what a
   * plan chosen for its time gives up, shown when the answer is expected to read less.
   */
  mostAccurate: { plan: Plan; expectedMs: number; p95Ms: number; accuracy: number } | null;
  /**
   * For an edge plan at a small detector side (policies that look again when short): when and how the edge detects
   * again at a larger side, sent with the request (core/protocol ESCALATE_HEADER).
   */
  escalation?: EdgeEscalation | null;
  /** Device-only plan to switch to when the edge refuses or fails. */
  fallback: { plan: Plan; expectedMs: number; p95Ms: number; accuracy: number } | null;
  counts: { plans: number; eligible: number; fitting: number };
  /** Estimates the prediction was made from (shown in the UI, used by observe()). */
  inputs: DecisionInputs;
}

export interface ModelFetch {
  /** Variant set fetched (profiles.json `models[].variant`). */
  variant: string;
  bytes: number;
  /** Predicted download time. */
  ms: number;
}

export interface DecisionInputs {
  deviceRuntime: string;
  edgeRuntime: string;
  imageWidth: number;
  imageHeight: number;
  imagePixels: number;
  imageBytes: number;
  detPixels: number;
  /** Detector input pixels of the device fallback plan (0 without one): what device stages measure after a fallback or a lost race. */
  fallbackDetPixels: number;
  /** Bytes and pixels of what the plan uploads as the image (0 when it uploads none). */
  uploadBytes: number;
  uploadPixels: number;
  lines: number;
  /** Predicted recogniser input width per line, in profiled lines (see rec-width.ts); 1 when absent. */
  recWidthFactor?: number;
  rttMs: number;
  upKbps: number;
  downKbps: number;
  bandwidthSource: 'samples' | 'netinfo' | 'prior';
  queueMs: number;
  edgeFailure: number;
}

export type DeviceStage = 'model-load' | 'decode' | 'reencode' | 'det-preprocess' | 'det' | 'det-head' | 'postprocess' | 'cls' | 'rec';
export type EdgeStage = 'request' | 'decode' | 'det-preprocess' | 'det' | 'det-tail' | 'postprocess' | 'cls' | 'rec';

/** What happened when a decision ran. Durations in ms; every field but the first three is optional. */
export interface Outcome {
  /** When the request finished (or failed). */
  atMs: number;
  ok: boolean;
  /** From the start of the request to the result (or to the failure). */
  totalMs: number;
  failure?: 'refused' | 'timeout' | 'network' | 'error';
  /** What the edge's refusal said (predicted_ms, Retry-After): then it updates the edge's expected wait only. */
  refusal?: RefusalInfo;
  /** Which branch produced the result of a race or a fallback. */
  winner?: 'edge' | 'device';
  /** Text lines found. */
  lines?: number;
  /** Total recogniser input width of those lines (recInputWidth()): what recognition cost is learnt per. */
  recInputWidth?: number;
  /** A warm-up on blank input right after loading: one weak, clipped sample of the device's speed. */
  warmUp?: boolean;
  /** Stages measured on the device. */
  device?: Partial<Record<DeviceStage, number>>;
  /** Lines recognised on the device (split recognition); defaults from the plan's share. */
  deviceLines?: number;
  edge?: {
    /** Client-side time from sending the request to the end of the reply. */
    elapsedMs: number;
    uploadBytes: number;
    downloadBytes?: number;
    /** The server's own work, queue included, without reading the body (the upload). */
    serverMs?: number;
    /** The upload as the server saw it (ThroughputSample.readMs). */
    readMs?: number;
    queueMs?: number;
    /** Server-Timing stages. */
    stages?: Partial<Record<EdgeStage, number>>;
    lines?: number;
    /** The edge detected again at a larger side (Decision.escalation): its time is not the plan's. */
    escalated?: boolean;
  };
  /** Actual size of a re-encoded upload. */
  reencodedBytes?: number;
  /**
   * An edge request given up without an answer (it lost a race, ran out of time, or the network failed): its upload
   * and how long it had been under way. The upload went no faster than that.
   */
  edgeUnanswered?: { elapsedMs: number; uploadBytes: number };
}
