/**
 * A machine-readable account of one finished request, successful or not: what was decided and predicted, what ran
 * where and how long each stage took. The page keeps every record in `globalThis.tandemRuns` and announces each
 * with a `tandem:run` event, so harnesses driving the page read the same figures the user sees. Plain data only
 * (structured-cloneable, JSON-safe).
 */
import { Z95 } from '../../core/placement/estimators/normal';
import type { Branch, ConstraintCode, PredictedStage, ReasonCode, StageWhere } from '../../core/placement';
import type { WhyCode } from '../placement/explain';
import type { Mode, PageDecision } from '../placement/page-planner';
import type { Escalated, OcrOutcome, SecondLook } from './run-ocr';

export interface PredictedStageRecord {
  stage: string;
  where: StageWhere;
  branch: Branch;
  /** Expected start, from the start of the request. */
  startMs: number;
  expectedMs: number;
  /** The stage's own 95th percentile (the planner's normal spread for it). */
  p95Ms: number;
}

export interface RunRecord {
  /** Position among this page's requests, from 0. */
  seq: number;
  /** Wall clock at the start (ms since the epoch), to line records up with a network trace. */
  startedAt: number;
  /** performance.now() at the start: the page's own clock. */
  startMs: number;
  mode: Mode;
  /** The policy that decided: auto mode's (tandem, layercake, pieslicer), or the forced mode's fixed one. */
  policy: string;
  budgetMs: number;
  ok: boolean;
  planId: string | null;
  planLabel: string | null;
  reason: ReasonCode | null;
  why: WhyCode | null;
  constraints: ConstraintCode[];
  /** The decision's prediction of the whole request and of each stage (every branch: main, race, fallback). */
  predicted: {
    expectedMs: number;
    p95Ms: number;
    fits: boolean;
    stages: PredictedStageRecord[];
    /** Text lines expected in the photo and their recogniser input width in profiled lines (what recognition was costed at). */
    lines: number;
    recWidthFactor: number | null;
    /** Word recall expected of the plan. */
    accuracy: number;
    /** The plan predicted to read the most of this photo, whatever its time (decision.mostAccurate). */
    mostAccurate: { planId: string; expectedMs: number; p95Ms: number; accuracy: number } | null;
    /** What the edge was asked to detect again at when short (decision.escalation). */
    escalation: { side: number; belowLines: number; costMs: number } | null;
  } | null;
  /** Milliseconds per stage as measured: the device's timings, or the edge's Server-Timing stages and the network. */
  measuredStages: Record<string, number>;
  /** From the request's start to its lines shown (or its error shown). */
  wallMs: number;
  ranOn: 'device' | 'edge' | null;
  fellBack: string | null;
  retried: string | null;
  raceWon: 'device' | 'edge' | null;
  /** The phone's raced answer held no line of the photo, so the edge's answer was awaited. */
  awaitedBetter: boolean;
  /** The recognition plan chosen after device detection, when recognition was decided again. */
  recognition: string | null;
  /** A second look at a larger side after a first read far short of the lines expected; `wallMs` is the answer's. */
  secondLook: SecondLook | null;
  /** The edge detected again at a larger side (OcrOutcome.escalated). */
  escalated: Escalated | null;
  split: { deviceLines: number; edgeLines: number } | null;
  /** The edge's Server-Timing total when the edge ran (the whole photo or a share of its lines). */
  edgeServerMs: number | null;
  lines: { text: string; score: number }[];
  image: { width: number | null; height: number | null; bytes: number; type: string };
  error: { code: string; message: string } | null;
}

export interface RunRecordInput {
  seq: number;
  startedAt: number;
  startMs: number;
  endMs: number;
  mode: Mode;
  /** Auto mode's policy, named when the request failed before a decision. */
  autoPolicy: string;
  budgetMs: number;
  photo: { bytes: number; type: string; width?: number; height?: number };
  /** The decision, when one was made. */
  placement?: PageDecision;
  /** The result, when there is one. */
  outcome?: OcrOutcome;
  /** Why there is no result. */
  error?: unknown;
}

export function buildRunRecord(input: RunRecordInput): RunRecord {
  const { placement, outcome } = input;
  const decision = placement?.decision;
  const error = outcome ? null : errorRecord(input.error);
  return {
    seq: input.seq,
    startedAt: input.startedAt,
    startMs: input.startMs,
    mode: input.mode,
    policy: placement?.policy.name ?? (input.mode === 'auto' ? input.autoPolicy : input.mode),
    budgetMs: input.budgetMs,
    ok: outcome !== undefined,
    planId: decision?.plan.id ?? null,
    planLabel: placement?.label ?? null,
    reason: decision?.reason ?? null,
    why: placement?.why ?? null,
    constraints: decision ? [...decision.constraints] : [],
    predicted: decision
      ? {
          expectedMs: decision.predicted.expectedMs,
          p95Ms: decision.predicted.p95Ms,
          fits: decision.fits,
          stages: decision.predicted.stages.map(stageRecord),
          lines: decision.inputs.lines,
          recWidthFactor: decision.inputs.recWidthFactor ?? null,
          accuracy: decision.predicted.accuracy,
          mostAccurate: decision.mostAccurate && {
            planId: decision.mostAccurate.plan.id,
            expectedMs: decision.mostAccurate.expectedMs,
            p95Ms: decision.mostAccurate.p95Ms,
            accuracy: decision.mostAccurate.accuracy,
          },
          escalation: decision.escalation
            ? { side: decision.escalation.maxSide, belowLines: decision.escalation.belowLines, costMs: decision.escalation.costMs }
            : null,
        }
      : null,
    measuredStages: Object.fromEntries(outcome?.stages ?? []),
    wallMs: input.endMs - input.startMs,
    ranOn: outcome?.target ?? null,
    fellBack: outcome?.fellBack ?? null,
    retried: outcome?.retried ?? null,
    raceWon: outcome?.raceWon ?? null,
    awaitedBetter: outcome?.awaitedBetter ?? false,
    recognition: outcome?.recognitionLabel ?? null,
    secondLook: outcome?.secondLook ? { ...outcome.secondLook } : null,
    escalated: outcome?.escalated ? { ...outcome.escalated } : null,
    split: outcome?.split ? { ...outcome.split } : null,
    edgeServerMs: outcome?.edgeServerMs ?? null,
    lines: (outcome?.lines ?? []).map((l) => ({ text: l.text, score: l.score })),
    image: {
      width: outcome?.image.width ?? input.photo.width ?? null,
      height: outcome?.image.height ?? input.photo.height ?? null,
      bytes: input.photo.bytes,
      type: input.photo.type,
    },
    error,
  };
}

function stageRecord(s: PredictedStage): PredictedStageRecord {
  return { stage: s.stage, where: s.where, branch: s.branch, startMs: s.startMs, expectedMs: s.expectedMs, p95Ms: s.expectedMs + Z95 * s.sdMs };
}

/** Codes travel in `name` (see coded-error); anything else thrown is an unnamed Error. */
function errorRecord(error: unknown): { code: string; message: string } {
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: 'Error', message: String(error) };
}

declare global {
  /** Every finished request of this page, in order (see RunRecord). */
  var tandemRuns: RunRecord[] | undefined;
}

/** Appends the record to `globalThis.tandemRuns` and dispatches `tandem:run` with it on `target`. */
export function publishRun(record: RunRecord, target: EventTarget = globalThis as unknown as EventTarget): void {
  (globalThis.tandemRuns ??= []).push(record);
  target.dispatchEvent(new CustomEvent<RunRecord>('tandem:run', { detail: record }));
}
