import type { OcrLine } from '../../core/ocr/types';
import type { Observation, RequestInfo } from '../../core/placement';
import { compareStages, planLabel, type StageRow } from '../placement/explain';
import { execute, type Execution, type Executors } from '../placement/execute';
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
  /** Predicted vs measured per planner stage. */
  comparison: StageRow[];
  /** Human-readable "where it ran". */
  where: string;
  wallMs: number;
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
}

/** Every request goes through the planner: auto with the Tandem policy, forced modes with their fixed plan. */
export async function runOcr(image: Blob, mode: Mode, context: RunContext): Promise<OcrOutcome> {
  const started = performance.now();
  const request: RequestInfo = { bytes: image.size, ...context.imageSize, mime: image.type || undefined, budgetMs: context.budgetMs };
  const placement = context.planner.decide(context.observe(request), mode);
  // Auto mode decides recognition again after device detection; forced device runs only when a share is set in the URL.
  const twoStep = context.deviceSplit && (mode === 'auto' || (mode === 'device' && context.forcedShare !== undefined));
  const split: Executors['split'] = twoStep
    ? {
        ...context.deviceSplit!,
        forced: context.forcedShare !== undefined,
        redecide: (lines, remainingMs) =>
          context.planner.redecide(placement, context.observe({ ...request, budgetMs: Math.max(1, remainingMs) }), lines, context.forcedShare),
      }
    : undefined;
  const run = await execute(placement.decision, image, { ...context.executors, split }, mode === 'edge');
  // A forced edge run on a plan the planner could not make (edge ruled out) would teach it the wrong stages.
  if (mode !== 'edge' || placement.decision.plan.kind === 'edge') context.planner.observe(placement, run.outcome, run.recognition);
  return {
    target: run.ranOn,
    mode,
    placement,
    fellBack: run.fellBack,
    retried: run.retried,
    raceWon: run.raceWon,
    profiles: context.planner.source.source,
    recognitionLabel: run.recognition ? planLabel(run.recognition.plan) : undefined,
    split: run.split && run.split.edgeLines > 0 ? { deviceLines: run.split.deviceLines, edgeLines: run.split.edgeLines } : undefined,
    lines: run.lines,
    image: run.image,
    stages: measuredStages(run),
    comparison: compareStages(placement.decision, run.outcome, run.ranOn),
    where: whereText(run, context.deviceInfo()) + (run.split && run.split.edgeLines > 0 ? ` + edge (${run.split.edgeLines} of ${run.split.deviceLines + run.split.edgeLines} lines)` : ''),
    wallMs: performance.now() - started,
  };
}

function measuredStages(run: Execution): [string, number][] {
  if (run.ranOn === 'device' && run.device) {
    const t = run.device.timings;
    const stages: [string, number][] = [
      ['decode', run.device.device.decodeMs], ['preprocess', t.preprocess], ['det', t.det], ['postprocess', t.postprocess], ['cls', t.cls], ['rec', t.rec], ['total', t.total],
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
