import type { OcrLine } from '../../core/ocr/types';
import type { Observation, RequestInfo } from '../../core/placement';
import { compareStages, type StageRow } from '../placement/explain';
import { execute, type Execution, type Executors } from '../placement/execute';
import type { Mode, PageDecision, PagePlanner } from '../placement/page-planner';
import type { LoadInfo } from '../worker/api';

export interface OcrOutcome {
  target: 'device' | 'edge';
  mode: Mode;
  placement: PageDecision;
  /** Set when the edge failed and the device answered. */
  fellBack?: string;
  raceWon?: 'device' | 'edge';
  lines: OcrLine[];
  image: { width: number; height: number };
  /** Milliseconds per stage as measured, in display order. */
  stages: [string, number][];
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
  executors: Executors;
  deviceInfo(): LoadInfo | undefined;
  imageSize: { width: number; height: number };
  budgetMs: number;
}

/** Every request goes through the planner: auto with the Tandem policy, forced modes with their fixed plan. */
export async function runOcr(image: Blob, mode: Mode, context: RunContext): Promise<OcrOutcome> {
  const started = performance.now();
  const request: RequestInfo = { bytes: image.size, ...context.imageSize, mime: image.type || undefined, budgetMs: context.budgetMs };
  const placement = context.planner.decide(context.observe(request), mode);
  const run = await execute(placement.decision, image, context.executors, mode === 'edge');
  // A forced edge run on a plan the planner could not make (edge ruled out) would teach it the wrong stages.
  if (mode !== 'edge' || placement.decision.plan.kind === 'edge') context.planner.observe(placement, run.outcome);
  return {
    target: run.ranOn,
    mode,
    placement,
    fellBack: run.fellBack,
    raceWon: run.raceWon,
    lines: run.lines,
    image: run.image,
    stages: measuredStages(run),
    comparison: compareStages(placement.decision, run.outcome, run.ranOn),
    where: whereText(run, context.deviceInfo()),
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
