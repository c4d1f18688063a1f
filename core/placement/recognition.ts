/**
 * Where the line crops go, decided again once detection has run on the device: the line count is then known
 * rather than predicted (a receipt holds sixty lines where a street photo holds four), and the time already spent
 * is known too. The candidates are the plans of the same detector configuration that detect on the device: all
 * crops recognised on the device, or a share sent to the edge while the device reads the rest. Same rule as the
 * first decision: the cheapest that fits what is left of the budget, else the one most likely to meet it.
 */
import type { Profiles } from '../profiles';
import { decide } from './decide';
import type { Decision } from './decision';
import { placementError } from './errors';
import type { EstimatorState } from './estimators/state';
import type { Observation } from './observations';
import { mostAccurateWithinBudget, type Policy } from './policies/policy';

const policies = new WeakMap<EstimatorState, Map<string, Policy>>();

function recognitionPolicy(state: EstimatorState, name: string, config: number): Policy {
  let byKey = policies.get(state);
  if (byKey === undefined) policies.set(state, (byKey = new Map()));
  const key = `${name}|${config}`;
  let p = byKey.get(key);
  if (p === undefined) {
    p = {
      name,
      allows: (plan) => plan.config.index === config && (plan.kind === 'device' || plan.kind === 'split-rec'),
      choose: (view) => mostAccurateWithinBudget(view, { whenNothingFits: 'most-likely' }),
    };
    byKey.set(key, p);
  }
  return p;
}

/** True when `decision` detects on the device and can still choose where its crops are recognised. */
export function canRedecideRecognition(decision: Decision): boolean {
  const k = decision.plan.kind;
  return decision.plan.detectOn === 'device' && (k === 'device' || k === 'split-rec');
}

/**
 * The recognition decision after device detection found `lines` text lines. `obs` is the page's observation at
 * that moment, with `request.budgetMs` the time left of the request's budget (device models as they are now).
 * The result is a Decision whose plan is a device or split-recognition plan of the same configuration; its
 * prediction covers recognition only.
 */
export function decideRecognition(obs: Observation, profiles: Profiles, state: EstimatorState, decision: Decision, lines: number): Decision {
  if (!canRedecideRecognition(decision)) {
    throw placementError('PlacementBadObservation', `decideRecognition(): plan ${decision.plan.id} does not detect on the device.`);
  }
  if (!(lines >= 0) || !Number.isFinite(lines))
    throw placementError('PlacementBadObservation', `decideRecognition(): lines must be a count, got ${String(lines)}.`);
  const policy = recognitionPolicy(state, decision.policy, decision.plan.config.index);
  const budgetMs = Math.max(1, obs.request.budgetMs);
  return decide({ ...obs, request: { ...obs.request, budgetMs, detected: { lines } } }, profiles, policy, state);
}

/** The request's decision with the recognition plan that actually ran: what observe() is told afterwards. */
export function withRecognition(decision: Decision, recognition: Decision): Decision {
  return { ...decision, plan: recognition.plan, inputs: { ...decision.inputs, lines: recognition.inputs.lines } };
}
