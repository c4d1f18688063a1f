/** The interface every placement policy implements, and the selection rule most of them share. */
import type { EstimatorState, IngestHooks } from '../estimators/state';
import type { Observation } from '../observations';
import type { Decision, Outcome } from '../decision';
import type { Plan, PlanSpace } from '../plan-space';
import type { PlanEvaluator } from '../plans';
import type { ReasonCode } from '../reasons';
import type { StageTable } from '../stage-table';
import * as normal from '../estimators/normal';

// Module-local copies: some loaders turn imported bindings into getter calls, which the per-plan loops would pay.
const normCdf = normal.normCdf;
const Z95 = normal.Z95;

export type PolicyName = 'tandem' | 'device' | 'edge' | 'layercake' | 'pieslicer' | (string & {});

/** What a policy sees when choosing: every plan already predicted, and which plans the constraints leave. */
export interface PolicyView {
  readonly observation: Observation;
  readonly state: EstimatorState;
  readonly space: PlanSpace;
  readonly table: StageTable;
  readonly predictions: PlanEvaluator;
  /** 1 where a plan passes the global constraints (offline, Save-Data, cellular, edge health) and the policy's own filter. */
  readonly eligible: Uint8Array;
  readonly budgetMs: number;
  /** Word-recall margin counted as a tie (grows with the user's cost weight). */
  readonly tolerance: number;
  /** The margin between plans of different model variant sets (at least `tolerance`). */
  readonly variantTolerance: number;
  /** Bytes count as a cost (cellular link or Save-Data). */
  readonly bytesCostly: boolean;
}

export interface Choice {
  /** Plan index, or -1 to take the device fallback. */
  index: number;
  reason: ReasonCode;
  /** The latency this policy itself predicted for its choice (for its prediction error); defaults to the shared model's. */
  estimateMs?: number;
}

export interface Policy extends IngestHooks {
  readonly name: PolicyName;
  /** Plans the policy can express at all (LayerCake has no preprocessing choice, PieSlicer a fixed model, ...). */
  allows(plan: Plan, space: PlanSpace): boolean;
  choose(view: PolicyView): Choice;
  /** Decides again where the crops are recognised once device detection has counted them (decideRecognition). */
  readonly redecidesRecognition?: boolean;
  /** Looks again at a larger detector side when a read found far fewer lines than expected (decideSecondLook). */
  readonly looksAgainWhenShort?: boolean;
  /** Learns from a finished request (for policies with estimators of their own). */
  learn?(decision: Decision, outcome: Outcome, state: EstimatorState): void;
}

/**
 * Highest expected accuracy among eligible plans whose p95 fits; plans within `tolerance` of it are ties (within
 * `variantTolerance` for a plan of another model variant set); among the ties about as likely to meet the budget as
 * the surest of them (COST_FOR_CHANCE), the cheapest: by edge milliseconds, then model downloads,
 * then bytes (on cellular or under Save-Data), then device milliseconds, then p95. When the plans that fit read far
 * less of the photo than the best plan, a plan that reads it well wins if it is likely in time (its expected time
 * fits) and expected to read more within the budget, though its p95 is past it. If none fits:
 * the lowest p95 (near-equal p95s broken by the same costs), or with `whenNothingFits: 'most-likely'` the plan
 * most likely to meet the budget.
 */
export function mostAccurateWithinBudget(view: PolicyView, options: { whenNothingFits?: 'fastest' | 'most-likely' } = {}): Choice {
  const { predictions: e, eligible, budgetMs } = view;
  const n = eligible.length;
  let bestAcc = -Infinity;
  let best = -1;
  for (let i = 0; i < n; i++) {
    if (eligible[i] === 1 && e.p95[i] <= budgetMs && e.accuracy[i] > bestAcc) {
      bestAcc = e.accuracy[i];
      best = i;
    }
  }
  if (bestAcc === -Infinity) {
    if (options.whenNothingFits === 'most-likely') {
      const likely = mostLikelyToMeet(view);
      if (likely >= 0)
        return { index: likely, reason: e.accuracy[likely] < bestEligibleAccuracy(view) - FAR_BELOW ? 'only-low-recall-in-time' : 'nothing-fits-most-likely' };
      // The budget is out of every plan's reach: the answer will be late whatever runs, and the fastest plan is often
      // the one that reads nothing (a receipt at 320 px). Aim instead at a deadline a little past the fastest plan's
      // expected time and read the most of the photo by then.
      const late = mostLikelyToMeet(view, LEAST_LATE_FACTOR * fastestExpected(view));
      if (late >= 0) return { index: late, reason: 'nothing-fits-least-late' };
    }
    let fastest = Infinity;
    for (let i = 0; i < n; i++) if (eligible[i] === 1 && e.p95[i] < fastest) fastest = e.p95[i];
    if (fastest === Infinity) return { index: -1, reason: 'no-eligible-plan-device-fallback' };
    // A race whose device run decides its p95 ties with that device plan: take the cheaper one.
    const limit = fastest + Math.max(EPS_MS, 1e-3 * fastest);
    let pick = -1;
    for (let i = 0; i < n; i++) if (eligible[i] === 1 && e.p95[i] <= limit && (pick < 0 || cheaper(e, i, pick, view.bytesCostly))) pick = i;
    return { index: pick, reason: 'nothing-fits-fastest' };
  }
  const floor = bestAcc - view.tolerance - 1e-12;
  const otherSetFloor = bestAcc - Math.max(view.tolerance, view.variantTolerance) - 1e-12;
  const { config, configs } = view.space;
  const bestSet = configs[config[best]].variant;
  // Each tie's chance to meet the budget (-1: not a tie).
  if (chances.length < n) chances = new Float64Array(n);
  const chance = chances;
  let surest = 0;
  for (let i = 0; i < n; i++) {
    const tied = eligible[i] === 1 && e.p95[i] <= budgetMs && e.accuracy[i] >= (configs[config[i]].variant === bestSet ? floor : otherSetFloor);
    chance[i] = tied ? chanceToMeet(e.expected[i], e.p95[i], budgetMs) : -1;
    if (chance[i] > surest) surest = chance[i];
  }
  let pick = -1;
  for (let i = 0; i < n; i++) {
    if (chance[i] < 0 || chance[i] < surest - COST_FOR_CHANCE) continue;
    if (pick < 0 || cheaper(e, i, pick, view.bytesCostly)) pick = i;
  }
  const wellRead = bestEligibleAccuracy(view) - FAR_BELOW;
  if (e.accuracy[pick] < wellRead) {
    // The plans sure to make it read far less of this photo. One that reads it well and is likely, if not sure, to
    // make it is expected to read more within the budget (chance × recall, as accuracy in budget counts): a receipt
    // at 960 px predicted a p95 just past 2 s (edge mode read it in 1.5 s) lost to a 320 px plan that read a fifth
    // of its words.
    const reads = readsMoreInBudget(view, pick, wellRead, LIKELY_IN_TIME);
    if (reads >= 0) return { index: reads, reason: 'likely-in-time-reads-more' };
    // Every plan that reads this photo well is predicted late: say so, the answer will miss much of the text.
    return { index: pick, reason: 'only-low-recall-in-time' };
  }
  const reason = e.accuracy[pick] >= bestAcc - 1e-12 ? 'most-accurate-within-budget' : 'cheaper-at-similar-accuracy';
  return { index: pick, reason };
}

/**
 * A cheaper plan among the ties may be this much less likely to meet the budget than the surest of them, no more: a
 * p95 that fits is not a sure answer. Split recognition (the phone detects at 960 px, the edge reads the lines) fitted
 * a 4 s budget with its p95 3.6–3.9 s on Wi-Fi, 5G and LTE (chance about 0.95) and was chosen over whole-edge runs
 * sure to make it, for their edge milliseconds: one in five came late (an edge stall during the crops' upload).
 */
const COST_FOR_CHANCE = 0.01;

/** Word recall this far below the best plan's, on this photo, is a different answer rather than a cheaper one. */
export const FAR_BELOW = 0.25;

function bestEligibleAccuracy(view: PolicyView): number {
  const { predictions: e, eligible } = view;
  let best = 0;
  for (let i = 0; i < eligible.length; i++) if (eligible[i] === 1 && e.accuracy[i] > best) best = e.accuracy[i];
  return best;
}

/** A plan past the budget's p95 is taken over a sure one only when it is at least this likely to make it (its expected time fits). */
export const LIKELY_IN_TIME = 0.5;

/**
 * Among eligible plans that read the photo well (predicted recall at least `wellRead`) and are at least `minChance`
 * likely to meet the budget, the one expected to read the most within it (chance × recall, as accuracy in budget
 * counts), if that beats plan `against`'s own expectation; -1 otherwise. Near-equal expectations go to the cheaper.
 */
function readsMoreInBudget(view: PolicyView, against: number, wellRead: number, minChance: number): number {
  const { predictions: e, eligible, budgetMs } = view;
  const bar = chanceToMeet(e.expected[against], e.p95[against], budgetMs) * e.accuracy[against];
  let best = bar;
  const n = eligible.length;
  if (chances.length < n) chances = new Float64Array(n);
  const score = chances;
  for (let i = 0; i < n; i++) {
    score[i] = -1;
    if (eligible[i] !== 1 || e.accuracy[i] < wellRead) continue;
    const chance = chanceToMeet(e.expected[i], e.p95[i], budgetMs);
    if (chance < minChance) continue;
    score[i] = chance * e.accuracy[i];
    if (score[i] > best) best = score[i];
  }
  if (!(best > bar)) return -1;
  return cheapestScoring(view, score, Math.max(bar + 1e-12, best * (1 - SCORE_TIE)));
}

/** The cheapest plan whose score is at least `floor` (-1 when none is). */
function cheapestScoring(view: PolicyView, score: Float64Array, floor: number): number {
  let pick = -1;
  for (let i = 0; i < view.eligible.length; i++) if (score[i] >= floor && (pick < 0 || cheaper(view.predictions, i, pick, view.bytesCostly))) pick = i;
  return pick;
}

/** Expected word recall in budget within this share of the best are ties (broken by cost). */
const SCORE_TIE = 0.02;
/** Below this chance the budget is out of reach: the lowest p95 is the better choice. */
const LIKELY_MIN = 0.05;
/**
 * The chance counts this many times over in the score (chance^w × recall): a plan predicted less likely to make it
 * is also predicted less surely, so recall is traded only for a small loss of chance, while a plan that would read
 * nothing of the photo still never wins on its chance alone. Chosen on the development traces with
 * `npm run eval:placement` and the dev set's per-photo recall; against always-edge (attainment points / accuracy in
 * budget at 500, 1000, 2000 ms): w = 1: 0.0 / +0.083, −3.5 / +0.068, −0.6 / +0.070; w = 2: +1.0, −1.2, +0.4 points;
 * w = 3: +1.5 / +0.075, +0.1 / +0.066, +0.9 / +0.061; w = 4: +1.7 / +0.070, +0.5 / +0.063, +1.3 / +0.058.
 */
export const CHANCE_WEIGHT = 4;

/**
 * When no plan's p95 fits, the plan expected to read the most of this photo within the budget (or `deadlineMs`):
 * its chance to meet the budget, raised to CHANCE_WEIGHT, times its predicted word recall (an answer after the
 * budget reads nothing, as `accuracy_in_budget` counts it). A fast plan that would read little of the photo no longer wins on its chance alone, and a fast but
 * uncertain plan (an upload over a link not yet measured, a race) still beats a certain miss. The latency is taken
 * as lognormal with the predicted expectation as its median and the p95 as its 95th percentile. -1 when every
 * chance is negligible.
 */
export function mostLikelyToMeet(view: PolicyView, deadlineMs = view.budgetMs): number {
  const { predictions: e, eligible } = view;
  const budgetMs = Math.max(view.budgetMs, deadlineMs);
  const n = eligible.length;
  if (chances.length < n) chances = new Float64Array(n);
  const score = chances;
  let bestChance = 0;
  for (let i = 0; i < n; i++) {
    score[i] = eligible[i] !== 1 ? -1 : e.expected[i] > OUT_OF_REACH * budgetMs ? 0 : chanceToMeet(e.expected[i], e.p95[i], budgetMs);
    if (score[i] > bestChance) bestChance = score[i];
  }
  if (bestChance < LIKELY_MIN) return -1;
  let best = 0;
  for (let i = 0; i < n; i++) {
    if (score[i] < 0) continue;
    score[i] = score[i] < LIKELY_MIN ? 0 : score[i] ** CHANCE_WEIGHT * e.accuracy[i];
    if (score[i] > best) best = score[i];
  }
  if (!(best > 0)) return -1;
  return cheapestScoring(view, score, best * (1 - SCORE_TIE));
}

/**
 * A plan expected to take more than this many times the budget is out of its reach, however wide its spread: a sum of
 * stages has a floor that the lognormal taken for it does not. A receipt's split recognition with a model download,
 * expected at 10.2 s with a p95 of 148 s, was given a 7.7 % chance of making 1 s, the best of any plan; it took 56 s.
 * In the simulator (`npm run eval:placement`, dev traces) Tandem's attainment at 500 / 1000 / 2000 ms is 52.9 / 74.5 /
 * 93.3 % without the bound, 52.0 / 74.2 / 93.0 % at 3×, 52.7 / 74.3 / 93.2 % at 5× and 52.7 / 74.4 / 93.3 % at 8×: a
 * transfer's spread is real when the link's estimate is stale, and a few such gambles pay.
 */
const OUT_OF_REACH = 8;

/** When nothing can meet the budget, the deadline aimed at instead: this many times the fastest plan's expected time. */
const LEAST_LATE_FACTOR = 1.5;

function fastestExpected(view: PolicyView): number {
  const { predictions: e, eligible } = view;
  let fastest = Infinity;
  for (let i = 0; i < eligible.length; i++) if (eligible[i] === 1 && e.expected[i] < fastest) fastest = e.expected[i];
  return fastest;
}

/** Per-plan chances of the current decision (decisions run one at a time). */
let chances = new Float64Array(0);

/** P(latency ≤ budget) for a lognormal latency with median `expected` and 95th percentile `p95`. */
export function chanceToMeet(expected: number, p95: number, budgetMs: number): number {
  if (!(expected > 0)) return 1;
  const s = p95 > expected ? Math.log(p95 / expected) / Z95 : 0;
  if (s === 0) return expected <= budgetMs ? 1 : 0;
  return normCdf(Math.log(budgetMs / expected) / s);
}

const EPS_MS = 0.5;

function cheaper(e: PlanEvaluator, i: number, j: number, bytesCostly: boolean): boolean {
  const de = e.edgeMs[i] - e.edgeMs[j];
  if (de < -EPS_MS) return true;
  if (de > EPS_MS) return false;
  // Models fetched cost the person data and storage whatever the link, and are a one-off the device keeps.
  const dm = e.modelBytes[i] - e.modelBytes[j];
  if (dm < -1) return true;
  if (dm > 1) return false;
  if (bytesCostly) {
    const db = e.bytes[i] - e.bytes[j];
    if (db < -1) return true;
    if (db > 1) return false;
  }
  const dd = e.deviceMs[i] - e.deviceMs[j];
  if (dd < -EPS_MS) return true;
  if (dd > EPS_MS) return false;
  if (e.p95[i] !== e.p95[j]) return e.p95[i] < e.p95[j];
  return e.accuracy[i] > e.accuracy[j];
}
