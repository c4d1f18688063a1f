/** Words for a decision: what the plan does, and which side of the budget ruled out the other location. Pure. */
import type { Decision, Outcome, Plan, PlanPredictions, PredictedStage } from '../../core/placement';

function variantOf(modelId: string): string {
  const variant = modelId.split('@')[1] ?? modelId;
  return variant === 'int8-weights' ? 'int8 weights' : variant;
}

/** E.g. "Edge · detector fp32 @ 640 · upload JPEG 960 q80", "Device · detector int8 weights @ 960". */
export function planLabel(plan: Plan): string {
  const det = `detector ${variantOf(plan.config.det)} @ ${plan.config.maxSide}`;
  switch (plan.kind) {
    case 'device':
      return `Device · ${det}`;
    case 'edge': {
      const up = plan.upload?.kind === 'reencode' ? `upload JPEG ${plan.upload.maxSide} q${Math.round(plan.upload.quality * 100)}` : 'upload original';
      return `Edge · ${det} · ${up}${plan.race ? ' · device race' : ''}`;
    }
    case 'split-rec':
      return `Split · ${det} on device · ${Math.round(plan.recEdgeShare * 100)}% of lines on edge`;
    case 'split-det':
      return `Split · ${det} cut at ${plan.split?.id ?? '?'}`;
  }
}

export type WhyCode =
  | 'offline'
  | 'edge-refused'
  | 'edge-not-ready'
  | 'no-cellular-offload'
  | 'uplink-too-slow-for-budget'
  | 'edge-too-slow-for-budget'
  | 'device-fits-without-edge-cost'
  | 'device-too-slow-for-budget'
  | 'device-models-missing'
  | 'edge-more-accurate'
  | 'low-recall-only-in-time'
  | 'far-fewer-lines-than-expected'
  | 'nothing-fits';

export const WHY_TEXT: Record<WhyCode, string> = {
  offline: 'offline',
  'edge-refused': 'the edge refused a request recently',
  'edge-not-ready': 'the edge has not loaded its models',
  'no-cellular-offload': 'no offloading over cellular',
  'uplink-too-slow-for-budget': 'uploading would take too long for the budget',
  'edge-too-slow-for-budget': 'the edge would not answer within the budget',
  'device-fits-without-edge-cost': 'the device is as accurate within the budget and costs the edge nothing',
  'device-too-slow-for-budget': 'this device would not finish within the budget',
  'device-models-missing': 'this device would first have to download its models',
  'edge-more-accurate': 'the edge reads more accurately within the budget',
  'low-recall-only-in-time': 'only a plan that reads far less of this photo can finish in time; the ones that read it well would be late',
  'far-fewer-lines-than-expected': 'the first read found far fewer lines than this photo should hold; reading it again at a larger size while there is time',
  'nothing-fits': 'no plan is predicted to meet the budget',
};

/** Share of a plan's expected time (on its main path, or on every branch) spent in one stage. */
export function stageShare(stages: readonly PredictedStage[], stage: string, mainOnly = true): number {
  const path = mainOnly ? stages.filter((s) => s.branch !== 'fallback' && s.branch !== 'device') : stages;
  const total = path.reduce((sum, s) => Math.max(sum, s.startMs + s.expectedMs), 0);
  const part = path.filter((s) => s.stage === stage).reduce((sum, s) => sum + s.expectedMs, 0);
  return total > 0 ? part / total : 0;
}

/** Share of a plan's expected time spent uploading. */
export function uploadShare(stages: readonly PredictedStage[]): number {
  return stageShare(stages, 'upload');
}

/**
 * Why the decision's location beat the other one, judged at the same detector side (the edge runs its own model
 * set, the device the fastest of its sets there): for a device plan, the fastest eligible edge plan at that side
 * (its predicted upload share tells a slow uplink from a slow edge); for a raced edge plan whose edge path alone would
 * be late, the same judgement (the device run is what meets the budget); for an edge plan, the fastest device plan at
 * that side.
 * `explain(i)` gives plan i's predicted stages.
 */
export function whyCode(decision: Decision, all: PlanPredictions, explain: (index: number) => readonly PredictedStage[], saveData: boolean): WhyCode {
  const plan = decision.plan;
  const budget = decision.budgetMs;
  if (decision.reason === 'only-low-recall-in-time') return 'low-recall-only-in-time';
  if (decision.reason === 'second-look-far-fewer-lines') return 'far-fewer-lines-than-expected';
  for (const c of ['offline', 'edge-refused', 'edge-not-ready', 'no-cellular-offload'] as const) {
    if (plan.kind === 'device' && decision.constraints.includes(c)) return c;
  }
  const edgeVerdict = (candidates: number[]): WhyCode | null => {
    if (candidates.length === 0) return null;
    const best = candidates.reduce((a, b) => (all.p95Ms[b]! < all.p95Ms[a]! ? b : a));
    if (all.p95Ms[best]! <= budget) return null;
    return uploadShare(explain(best)) >= 0.5 ? 'uplink-too-slow-for-budget' : 'edge-too-slow-for-budget';
  };
  // The same detector side: the edge runs its own model set, the device the set it holds or would fetch.
  const unraced = (p: Plan, i: number) =>
    p.kind === 'edge' && !p.race && p.config.maxSide === plan.config.maxSide && !(saveData && p.upload?.kind === 'original') && i >= 0;
  if (plan.kind === 'device') {
    const edge = edgeVerdict(all.plans.flatMap((p, i) => (unraced(p, i) ? [i] : [])));
    if (edge !== null) return edge;
    return decision.fits ? 'device-fits-without-edge-cost' : 'nothing-fits';
  }
  if (plan.race) {
    // The same plan without the race (ids differ only by the "+race" suffix).
    const twin = all.plans.findIndex((p) => !p.race && p.id === plan.id.replace(/\+race$/, ''));
    const edge = twin >= 0 ? edgeVerdict([twin]) : null;
    if (edge !== null) return edge;
  }
  // The device's best chance at this side: of its sets, the one predicted fastest (a held one needs no download).
  let device = -1;
  all.plans.forEach((p, i) => {
    if (p.kind === 'device' && p.config.maxSide === plan.config.maxSide && (device < 0 || all.p95Ms[i]! < all.p95Ms[device]!)) device = i;
  });
  if (device >= 0 && all.p95Ms[device]! > budget) {
    return stageShare(explain(device), 'model-download', false) >= 0.5 ? 'device-models-missing' : 'device-too-slow-for-budget';
  }
  return decision.fits ? 'edge-more-accurate' : 'nothing-fits';
}

export interface StageRow {
  stage: string;
  predictedMs: number | null;
  actualMs: number | null;
}

const NETWORK_STAGES = new Set(['rtt', 'upload', 'download']);

/**
 * Predicted vs measured time per stage of one run. Predictions of the branch that answered (the edge path, or the
 * device path after a lost race or a fallback); the edge's transfer stages are compared as one `network` row
 * (round trip less the server's work), since the page cannot split them.
 */
export function compareStages(decision: Decision, outcome: Outcome, ranOn: 'device' | 'edge'): StageRow[] {
  // A whole-request edge plan that ended on the device (lost race, fallback) is compared on its device branch.
  const viaDevice = ranOn === 'device' && decision.plan.kind === 'edge';
  const predicted = new Map<string, number>();
  for (const s of decision.predicted.stages) {
    const deviceBranch = s.branch === 'device' || s.branch === 'fallback';
    if (viaDevice ? !(deviceBranch || s.stage === 'reencode') : s.branch === 'fallback' || (decision.plan.kind === 'edge' && deviceBranch)) continue;
    const name = NETWORK_STAGES.has(s.stage) ? 'network' : s.stage;
    predicted.set(name, (predicted.get(name) ?? 0) + s.expectedMs);
  }
  const actual = new Map<string, number>();
  for (const [stage, ms] of Object.entries(outcome.device ?? {})) if (ms !== undefined) actual.set(stage, ms);
  const e = outcome.edge;
  if (e !== undefined) {
    for (const [stage, ms] of Object.entries(e.stages ?? {})) if (ms !== undefined) actual.set(`edge-${stage}`, ms);
    if (e.queueMs !== undefined) actual.set('queue', e.queueMs);
    actual.set('network', Math.max(0, e.elapsedMs - (e.serverMs ?? 0)));
  }
  const names = [...new Set([...predicted.keys(), ...actual.keys()])];
  const rows = names.map((stage) => ({ stage, predictedMs: predicted.get(stage) ?? null, actualMs: actual.get(stage) ?? null }));
  rows.push({ stage: 'total', predictedMs: decision.predicted.expectedMs, actualMs: outcome.totalMs });
  return rows;
}
