/**
 * A second look at a larger detector side, when a read came back in time but found far fewer lines than the photo
 * was expected to hold. Predicted recall at a small side is a fit over the development set: most receipts keep nearly
 * all their words at 480 px, but a receipt photographed with its background (its print small in the frame) keeps
 * none, and nothing known before the read tells the two apart. The read itself does: six lines where forty were
 * expected. The first answer is shown and kept; the second look is asked for only while there is time for it, and it
 * replaces the first answer only when it arrives within the budget with more lines. Missing the deadline costs edge
 * time and bytes (the request is withdrawn at the deadline), never the answer.
 */
import type { Profiles } from '../profiles';
import { decide } from './decide';
import type { Decision } from './decision';
import type { EstimatorState } from './estimators/state';
import type { Observation } from './observations';
import { chanceToMeet, LIKELY_IN_TIME, mostAccurateWithinBudget, type Policy } from './policies/policy';

/** A read holding fewer than this share of the lines the photo was expected to hold is far short of it. */
export const SHORT_READ_SHARE = 0.5;

/**
 * True when `lines` read are far fewer than the `expectedLines` the planner predicted for the photo. The expectation
 * before a similar photo was read is a mean by photo shape, so only a read well under half of it counts.
 */
export function readFarShort(lines: number, expectedLines: number): boolean {
  return expectedLines >= 1 && lines < SHORT_READ_SHARE * expectedLines;
}

const policies = new WeakMap<EstimatorState, Map<string, Policy>>();

/** `policy`'s plans at a detector side larger than `side`, without a race: the first answer is the fallback. */
function largerSidePolicy(state: EstimatorState, policy: Policy, side: number): Policy {
  let byKey = policies.get(state);
  if (byKey === undefined) policies.set(state, (byKey = new Map()));
  const key = `${policy.name}|${side}`;
  let p = byKey.get(key);
  if (p === undefined) {
    p = {
      name: policy.name,
      allows: (plan, space) => plan.config.maxSide > side && !plan.race && policy.allows(plan, space),
      choose: (view) => mostAccurateWithinBudget(view, { whenNothingFits: 'most-likely' }),
    };
    byKey.set(key, p);
  }
  return p;
}

/**
 * The plan for a second look at the photo of `first` (a decision of `policy`), whose read found `linesRead` lines,
 * with `obs.request.budgetMs` the time left of the budget; null when the read was not far short, the photo has no
 * larger side to read it at, or no plan at a larger side is likely to arrive in the time left.
 */
export function decideSecondLook(
  obs: Observation,
  profiles: Profiles,
  policy: Policy,
  state: EstimatorState,
  first: Decision,
  linesRead: number,
): Decision | null {
  const side = first.plan.config.maxSide;
  if (!readFarShort(linesRead, first.inputs.lines)) return null;
  if (side >= Math.max(obs.request.width, obs.request.height)) return null;
  const budgetMs = obs.request.budgetMs;
  if (!(budgetMs > 0)) return null;
  const next = decide(obs, profiles, largerSidePolicy(state, policy, side), state);
  if (!(next.plan.config.maxSide > side) || next.plan.race) return null;
  if (chanceToMeet(next.predicted.expectedMs, next.predicted.p95Ms, budgetMs) < LIKELY_IN_TIME) return null;
  return { ...next, reason: 'second-look-far-fewer-lines', fallback: null, raceStartAtMs: null };
}
