/**
 * decide(): one request, every plan predicted, the policy picks one. The observation's new samples are folded into
 * the estimator state first; the result carries its reason, its constraints, the predicted breakdown and the device
 * fallback for when the edge fails.
 */
import type { Profiles } from '../profiles';
import type { Decision, DecisionInputs, ModelFetch } from './decision';
import { escalationFor } from './escalation';
import { placementError } from './errors';
import type { EstimatorState } from './estimators/state';
import type { Observation } from './observations';
import type { Plan, PlanSpace } from './plan-space';
import { PlanEvaluator, type PredictedStage } from './plans';
import type { Choice, Policy, PolicyView } from './policies/policy';
import type { ConstraintCode } from './reasons';
import { StageTable } from './stage-table';

interface Engine {
  table: StageTable;
  evaluator: PlanEvaluator;
  eligible: Uint8Array;
  allowed: WeakMap<Policy, Uint8Array>;
}

const engines = new WeakMap<EstimatorState, Engine>();

function engineOf(state: EstimatorState): Engine {
  let e = engines.get(state);
  if (e === undefined) {
    const table = new StageTable(state.space, state.options.recEdgeShares);
    e = { table, evaluator: new PlanEvaluator(state.space, table), eligible: new Uint8Array(state.space.plans.length), allowed: new WeakMap() };
    engines.set(state, e);
  }
  return e;
}

function allowedBy(engine: Engine, policy: Policy, space: PlanSpace): Uint8Array {
  let a = engine.allowed.get(policy);
  if (a === undefined) {
    a = Uint8Array.from(space.plans, (p) => (policy.allows(p, space) ? 1 : 0));
    engine.allowed.set(policy, a);
  }
  return a;
}

const CONSTRAINT_BITS: ConstraintCode[] = ['offline', 'edge-refused', 'edge-not-ready', 'save-data', 'no-cellular-offload'];

/**
 * Every plan's prediction for one observation (copies; for the simulator's oracle, tests and the UI).
 * Like decide(), it takes the observation's new samples into the state: pass the policy that will decide, so
 * estimators of its own see them too.
 */
export interface PlanPredictions {
  plans: readonly Plan[];
  expectedMs: Float64Array;
  p95Ms: Float64Array;
  accuracy: Float64Array;
  edgeMs: Float64Array;
  transferBytes: Float64Array;
  deviceMs: Float64Array;
  /** Index of the device-only plan edge plans fall back to. */
  fallback: number;
  hedgeAtMs: number;
}

export function predictAll(obs: Observation, profiles: Profiles, state: EstimatorState, hooks?: Policy): PlanPredictions {
  const { evaluator } = prepare(obs, profiles, state, hooks);
  return {
    plans: state.space.plans,
    expectedMs: evaluator.expected.slice(),
    p95Ms: evaluator.p95.slice(),
    accuracy: evaluator.accuracy.slice(),
    edgeMs: evaluator.edgeMs.slice(),
    transferBytes: evaluator.bytes.slice(),
    deviceMs: evaluator.deviceMs.slice(),
    fallback: evaluator.fallback,
    hedgeAtMs: evaluator.hedgeAtMs,
  };
}

/**
 * Stage-by-stage prediction of any plan (by index or id) for one observation: the structure the simulator replays
 * and the UI draws; `branch` tells concurrent parts apart.
 */
export function explainPlan(obs: Observation, profiles: Profiles, state: EstimatorState, plan: number | string, hooks?: Policy): PredictedStage[] {
  const { evaluator } = prepare(obs, profiles, state, hooks);
  const index = typeof plan === 'number' ? plan : (state.space.byId(plan)?.index ?? -1);
  if (!(index >= 0 && index < state.space.plans.length))
    throw placementError('PlacementNoPlan', `explainPlan(): no plan ${JSON.stringify(plan)} in this plan space.`);
  return evaluator.explain(index);
}

function prepare(obs: Observation, profiles: Profiles, state: EstimatorState, hooks?: Policy): Engine {
  if (state.profiles !== profiles)
    throw placementError(
      'PlacementProfilesMismatch',
      'the estimator state was created for other profiles; create a new state with createEstimatorState(profiles).',
    );
  checkObservation(obs);
  state.ingest(obs, hooks);
  const engine = engineOf(state);
  engine.table.prepare(obs, state);
  engine.evaluator.evaluateAll(obs.request.budgetMs);
  return engine;
}

export function decide(obs: Observation, profiles: Profiles, policy: Policy, state: EstimatorState): Decision {
  const engine = prepare(obs, profiles, state, policy);
  const { table, evaluator, eligible } = engine;
  const space = state.space;
  const budget = obs.request.budgetMs;

  // Global constraints, then the policy's own filter.
  const offline = !obs.online || obs.connection === 'none';
  const refused = table.edgeAvailability === 'refused';
  const notReady = table.edgeAvailability === 'not-ready';
  const saveData = obs.preferences.saveData || obs.netInfo?.saveData === true;
  const cellular = obs.connection === 'cellular';
  const noCellular = cellular && !obs.preferences.offloadOnCellular;
  const edgeBlockedBy = offline ? 0 : refused ? 1 : notReady ? 2 : noCellular ? 4 : -1;
  const allowed = allowedBy(engine, policy, space);
  let used = 0;
  let eligibleCount = 0;
  let fitting = 0;
  const usesEdge = space.usesEdge;
  const uploadsOriginal = space.uploadsOriginal;
  const p95 = evaluator.p95;
  for (let i = 0; i < eligible.length; i++) {
    let ok = 1;
    if (usesEdge[i] === 1 && edgeBlockedBy >= 0) {
      ok = 0;
      used |= 1 << edgeBlockedBy;
    } else if (saveData && uploadsOriginal[i] === 1) {
      ok = 0;
      used |= 1 << 3;
    }
    if (allowed[i] === 0) ok = 0;
    eligible[i] = ok;
    if (ok === 1) {
      eligibleCount++;
      if (p95[i] <= budget) fitting++;
    }
  }

  const view: PolicyView = {
    observation: obs,
    state,
    space,
    table,
    predictions: evaluator,
    eligible,
    budgetMs: budget,
    tolerance: state.options.tieTolerance + clamp01(obs.preferences.costWeight) * state.options.maxAccuracyTrade,
    variantTolerance: state.options.variantTolerance,
    bytesCostly: cellular || saveData,
  };
  let choice: Choice = policy.choose(view);
  if (choice.index < 0 || eligible[choice.index] !== 1) {
    if (evaluator.fallback < 0)
      throw placementError('PlacementNoPlan', `decide(): policy "${policy.name}" found no plan and the device cannot run any configuration in these profiles.`);
    choice = { index: evaluator.fallback, reason: 'no-eligible-plan-device-fallback' };
  }

  const i = choice.index;
  const plan = space.plans[i];
  const constraints = CONSTRAINT_BITS.filter((_, bit) => (used & (1 << bit)) !== 0);
  const f = evaluator.fallback;
  const prediction = evaluator.prediction(i, cellular);
  const best = mostAccurateOf(evaluator, eligible);
  return {
    policy: policy.name,
    plan,
    reason: choice.reason,
    constraints,
    atMs: obs.nowMs,
    budgetMs: budget,
    fits: prediction.p95Ms <= budget,
    predicted: { ...prediction, stages: evaluator.explain(i) },
    policyEstimateMs: choice.estimateMs ?? prediction.expectedMs,
    raceStartAtMs: plan.race ? evaluator.hedgeAtMs : null,
    fetch: fetchOf(plan, table),
    mostAccurate:
      best < 0 ? null : { plan: space.plans[best], expectedMs: evaluator.expected[best], p95Ms: evaluator.p95[best], accuracy: evaluator.accuracy[best] },
    escalation: policy.looksAgainWhenShort ? escalationFor(plan, space, evaluator, Math.max(obs.request.width, obs.request.height), table.linesMean) : null,
    fallback:
      plan.usesEdge && f >= 0 ? { plan: space.plans[f], expectedMs: evaluator.expected[f], p95Ms: evaluator.p95[f], accuracy: evaluator.accuracy[f] } : null,
    counts: { plans: space.plans.length, eligible: eligibleCount, fitting },
    inputs: inputsOf(plan, obs, table, state, f),
  };
}

function mostAccurateOf(e: PlanEvaluator, eligible: Uint8Array): number {
  let best = -1;
  for (let i = 0; i < eligible.length; i++) {
    if (eligible[i] !== 1) continue;
    if (best < 0 || e.accuracy[i] > e.accuracy[best] || (e.accuracy[i] === e.accuracy[best] && e.expected[i] < e.expected[best])) best = i;
  }
  return best;
}

function fetchOf(plan: Plan, table: StageTable): ModelFetch | null {
  if (plan.kind === 'edge') return null;
  const slot = table.modelDownload[plan.config.index];
  return table.bytes[slot] > 0 ? { variant: plan.config.variant, bytes: table.bytes[slot], ms: table.mean[slot] } : null;
}

function inputsOf(plan: Plan, obs: Observation, table: StageTable, state: EstimatorState, fallback: number): DecisionInputs {
  const r = state.space.reencode[plan.index];
  const uploadsImage = plan.kind === 'edge';
  return {
    deviceRuntime: table.deviceModels?.key ?? '',
    edgeRuntime: state.edgeModels.key,
    imageWidth: obs.request.width,
    imageHeight: obs.request.height,
    imagePixels: obs.request.width * obs.request.height,
    imageBytes: obs.request.bytes,
    detPixels: table.detPixels[plan.config.index],
    fallbackDetPixels: plan.usesEdge && fallback >= 0 ? table.detPixels[state.space.plans[fallback].config.index] : 0,
    uploadBytes: !uploadsImage ? 0 : r >= 0 ? table.reencodeBytes[r] : obs.request.bytes,
    uploadPixels: !uploadsImage ? 0 : r >= 0 ? table.reencodePixels[r] : obs.request.width * obs.request.height,
    lines: table.linesMean,
    recWidthFactor: table.widthFactor,
    rttMs: table.rttEst.meanMs,
    upKbps: table.upEst.kbps,
    downKbps: table.downEst.kbps,
    bandwidthSource: table.upEst.source,
    queueMs: table.queueEst.meanMs,
    edgeFailure: table.failureProbability,
  };
}

function clamp01(x: number): number {
  return x > 1 ? 1 : x > 0 ? x : 0;
}

function checkObservation(obs: Observation): void {
  const r = obs.request;
  const bad = (what: string) => {
    throw placementError('PlacementBadObservation', `decide(): ${what}`);
  };
  if (!Number.isFinite(obs.nowMs)) bad(`nowMs must be a finite number of milliseconds, got ${String(obs.nowMs)}.`);
  if (!(r.budgetMs > 0) || !Number.isFinite(r.budgetMs)) bad(`request.budgetMs must be a positive number, got ${String(r.budgetMs)}.`);
  if (!(r.width >= 1) || !(r.height >= 1)) bad(`request.width and request.height must be at least 1 pixel, got ${String(r.width)}×${String(r.height)}.`);
  if (!(r.bytes > 0)) bad(`request.bytes must be the size of the image in bytes, got ${String(r.bytes)}.`);
}
