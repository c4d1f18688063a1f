import type { OcrLine } from '../../core/ocr/types';
import type { Observation, RequestInfo } from '../../core/placement';
import { compareStages, planLabel, type StageRow } from '../placement/explain';
import { execute, type Execution, type Executors } from '../placement/execute';
import { stoppable, stoppedError } from '../placement/stoppable';
import type { Mode, PageDecision, PagePlanner } from '../placement/page-planner';
import type { LoadInfo } from '../worker/api';

export interface OcrOutcome {
  target: 'device' | 'edge';
  mode: Mode;
  placement: PageDecision;
  /** Set when the edge failed and the device answered. */
  fellBack?: string;
  /** Set when the edge refused the deadline and answered without one. */
  retried?: string;
  raceWon?: 'device' | 'edge';
  /** The phone's raced answer held no line of the photo, so the edge's answer was awaited (Execution.awaitedBetter). */
  awaitedBetter?: boolean;
  lines: OcrLine[];
  image: { width: number; height: number };
  /** Milliseconds per stage as measured, in display order. */
  stages: [string, number][];
  /** Whether the predictions come from measured profiles or the built-in example figures. */
  profiles: 'measured' | 'example';
  /** The recognition plan chosen after device detection, when recognition was decided again. */
  recognitionLabel?: string;
  /** Lines read on the device and on the edge when recognition was split. */
  split?: { deviceLines: number; edgeLines: number };
  /** The edge's own time (Server-Timing total) when the edge read the photo or a share of its lines. */
  edgeServerMs?: number;
  /** Predicted vs measured per planner stage. */
  comparison: StageRow[];
  /** Human-readable "where it ran". */
  where: string;
  wallMs: number;
  /** A second look at a larger side after a first read far short of the lines expected (its answer used or not). */
  secondLook?: SecondLook;
  /** The edge detected again at a larger side because its first detection found too few lines (Decision.escalation). */
  escalated?: Escalated;
}

export interface Escalated {
  fromSide: number;
  toSide: number;
  /** Lines the first detection found. */
  firstLines: number;
}

export interface SecondLook {
  label: string;
  planId: string;
  /** Why it was asked for, in words. */
  why: string;
  /** Its answer replaced the first: it arrived within the budget with more lines. */
  used: boolean;
  /** Lines of the first read, and of the second when it answered. */
  firstLines: number;
  lines: number | null;
  /** From the request's start to the first answer. */
  firstMs: number;
  /** Why the first answer stands, when it does. */
  note?: string;
}

export interface RunContext {
  planner: PagePlanner;
  /** Everything the page knows now, for this request. */
  observe(request: RequestInfo): Observation;
  executors: Omit<Executors, 'split'>;
  /** Two-step device runs (detection, then recognition placed with the line count known). */
  deviceSplit?: Pick<NonNullable<Executors['split']>, 'detect' | 'recognize'>;
  /** URL setting for comparisons: the share of crops recognised on the edge, whatever the planner says. */
  forcedShare?: number;
  deviceInfo(): LoadInfo | undefined;
  imageSize: { width: number; height: number };
  budgetMs: number;
  /** Refreshes stale link estimates before a request that may go to the edge (bounded in time). */
  refreshLink?(): Promise<unknown>;
  /** Told the decision before it is carried out, so a failed run can still say what was decided. */
  onDecision?(placement: PageDecision): void;
  /** The user stopped the read: every step under way stops, and the run ends with a `Stopped` error. */
  signal?: AbortSignal;
  /** A first answer, shown while the photo is read again at a larger side (it stands if the second look is late). */
  onFirstAnswer?(outcome: OcrOutcome): void;
}

/** Every request goes through the planner: auto with its policy (Tandem by default), forced modes with their fixed plan. */
export async function runOcr(image: Blob, mode: Mode, context: RunContext): Promise<OcrOutcome> {
  const started = performance.now();
  if (mode !== 'device') await context.refreshLink?.();
  // The budget runs from the user's request: time spent refreshing the link estimate is already gone.
  const budgetMs = Math.max(1, context.budgetMs - (performance.now() - started));
  const request: RequestInfo = { bytes: image.size, ...context.imageSize, mime: image.type || undefined, budgetMs };
  const placement = context.planner.decide(context.observe(request), mode);
  context.onDecision?.(placement);
  // Auto mode decides recognition again after device detection when its policy does (the baselines place whole
  // requests); forced device runs only when a share is set in the URL.
  const redecides = mode === 'auto' && placement.policy.redecidesRecognition === true;
  const twoStep = context.deviceSplit && (redecides || (mode === 'device' && context.forcedShare !== undefined));
  const split: Executors['split'] = twoStep
    ? {
        ...context.deviceSplit!,
        forced: context.forcedShare !== undefined,
        redecide: (lines, remainingMs) =>
          context.planner.redecide(placement, context.observe({ ...request, budgetMs: Math.max(1, remainingMs) }), lines, context.forcedShare),
      }
    : undefined;
  // Auto mode decides again after an edge refusal, having learnt from it, for what is left of the budget.
  const replan: Executors['replan'] =
    mode === 'auto'
      ? (_, refused, remainingMs) => {
          context.planner.observe(placement, refused);
          return context.planner.decide(context.observe({ ...request, budgetMs: Math.max(1, remainingMs) }), mode).decision;
        }
      : undefined;
  const executors: Executors = { ...context.executors, split, replan };
  let run: Execution;
  try {
    run = await execute(placement.decision, image, context.signal ? stoppable(executors, context.signal) : executors, mode === 'edge');
  } catch (error) {
    // Whatever a stopped step threw (a cancelled device run, an aborted upload) the user's stop is the reason.
    if (context.signal?.aborted) throw stoppedError();
    throw error;
  }
  // A forced edge run on a plan the planner could not make (edge ruled out) would teach it the wrong stages.
  const carriedOut = run.replanned ? { ...placement, decision: run.replanned.decision } : placement;
  if (mode !== 'edge' || placement.decision.plan.kind === 'edge') context.planner.observe(carriedOut, run.outcome, run.recognition);
  const first = outcomeOf(run, mode, placement, carriedOut, context, started);
  return mode === 'auto' ? lookAgainIfShort(first, run, image, request, context, started) : first;
}

/**
 * A read far short of the lines the photo was expected to hold is shown at once, and the photo read again at a larger
 * side if the planner finds a plan likely to arrive in what is left of the budget (PagePlanner.secondLook). That
 * answer replaces the first only when it arrives within the budget with more lines; at the deadline it is withdrawn.
 */
async function lookAgainIfShort(
  first: OcrOutcome,
  run: Execution,
  image: Blob,
  request: RequestInfo,
  context: RunContext,
  started: number,
): Promise<OcrOutcome> {
  const leftMs = context.budgetMs - (performance.now() - started);
  if (leftMs < 1 || context.signal?.aborted) return first;
  const second = context.planner.secondLook(first.placement, context.observe({ ...request, budgetMs: leftMs }), run.lines.length);
  if (second === null) return first;
  context.onFirstAnswer?.(first);
  const look: SecondLook = {
    label: second.label,
    planId: second.decision.plan.id,
    why: second.whyText,
    used: false,
    firstLines: run.lines.length,
    lines: null,
    firstMs: first.wallMs,
  };
  const deadline = AbortSignal.timeout(Math.max(1, Math.floor(leftMs)));
  const signal = context.signal ? AbortSignal.any([deadline, context.signal]) : deadline;
  let again: Execution;
  try {
    again = await execute(second.decision, image, stoppable(context.executors, signal));
  } catch (error) {
    look.note = deadline.aborted
      ? 'the second look did not arrive within the budget'
      : `the second look failed: ${error instanceof Error ? error.message : String(error)}`;
    return { ...first, secondLook: look };
  }
  context.planner.observe(second, again.outcome);
  look.lines = again.lines.length;
  if (performance.now() - started > context.budgetMs) look.note = 'the second look arrived after the budget';
  else if (again.lines.length <= run.lines.length) look.note = 'the second look found no more lines';
  else look.used = true;
  if (!look.used) return { ...first, secondLook: look };
  const answer = outcomeOf(again, 'auto', first.placement, second, context, started);
  // The edge read the photo twice: both count as its cost.
  const edgeMs = (first.edgeServerMs ?? 0) + (answer.edgeServerMs ?? 0);
  return { ...answer, edgeServerMs: edgeMs > 0 ? edgeMs : undefined, secondLook: look };
}

function outcomeOf(run: Execution, mode: Mode, placement: PageDecision, carriedOut: PageDecision, context: RunContext, started: number): OcrOutcome {
  return {
    target: run.ranOn,
    mode,
    placement,
    fellBack: run.replanned ? `${run.replanned.reason}; decided again: ${planLabel(run.replanned.decision.plan)}` : run.fellBack,
    retried: run.retried,
    raceWon: run.raceWon,
    awaitedBetter: run.awaitedBetter,
    profiles: context.planner.source.source,
    recognitionLabel: run.recognition ? planLabel(run.recognition.plan) : undefined,
    split: run.split && run.split.edgeLines > 0 ? { deviceLines: run.split.deviceLines, edgeLines: run.split.edgeLines } : undefined,
    edgeServerMs: run.edge ? (run.edge.serverTiming.total ?? run.edge.response.server.total) : run.split?.edge?.serverMs,
    escalated: escalatedOf(run),
    lines: run.lines,
    image: run.image,
    stages: measuredStages(run),
    comparison: compareStages(carriedOut.decision, run.outcome, run.ranOn),
    where:
      whereText(run, context.deviceInfo()) +
      (run.split && run.split.edgeLines > 0 ? ` + edge (${run.split.edgeLines} of ${run.split.deviceLines + run.split.edgeLines} lines)` : ''),
    wallMs: performance.now() - started,
  };
}

function escalatedOf(run: Execution): Escalated | undefined {
  const r = run.edge?.response;
  if (r?.escalated === undefined) return undefined;
  return { fromSide: r.escalated.fromSide, toSide: r.config?.maxSide ?? Math.max(r.detInput.width, r.detInput.height), firstLines: r.escalated.lines };
}

function measuredStages(run: Execution): [string, number][] {
  if (run.ranOn === 'device' && run.device) {
    const t = run.device.timings;
    const stages: [string, number][] = [
      ['decode', run.device.device.decodeMs],
      ['preprocess', t.preprocess],
      ['det', t.det],
      ['postprocess', t.postprocess],
      ['cls', t.cls],
      ['rec', t.rec],
      ['total', t.total],
    ];
    const reencode = run.outcome.device?.reencode;
    return reencode === undefined ? stages : [['reencode', reencode], ...stages];
  }
  const reply = run.edge!;
  const serverTotal = reply.serverTiming.total ?? reply.response.server.total;
  const stages = Object.entries(reply.serverTiming);
  stages.push(['network', Math.max(0, reply.roundTripMs - serverTotal)]);
  const reencode = run.outcome.device?.reencode;
  return reencode === undefined ? stages : [['reencode', reencode], ...stages];
}

function whereText(run: Execution, info: LoadInfo | undefined): string {
  if (run.ranOn === 'device') {
    const b = info ?? run.device?.device;
    return `This device${b ? ` · ${b.backend}${b.backend === 'wasm' ? ` · ${b.threads} thread${b.threads === 1 ? '' : 's'}` : ''}` : ''}`;
  }
  const models = run.edge!.response.models;
  return `Edge · ${new URL(location.href).host} · ${models.det}, ${models.rec}`;
}
