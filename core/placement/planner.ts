/**
 * One placement engine for one page: profiles, a policy and what has been learnt, kept together so the caller only
 * passes observations and outcomes. The functional API (decide/observe) stays available for simulators that run
 * several policies side by side.
 */
import type { Profiles } from '../profiles';
import type { Decision, Outcome } from './decision';
import { decide, explainPlan, predictAll, type PlanPredictions } from './decide';
import { EstimatorState, type LearnedState } from './estimators/state';
import type { Observation } from './observations';
import { observe, type ObserveResult } from './observe';
import { type PlannerOptions, withDefaults } from './options';
import type { PredictedStage } from './plans';
import type { Policy } from './policies/policy';
import { tandemPolicy } from './policies/tandem';

export class Planner {
  readonly state: EstimatorState;

  constructor(
    readonly profiles: Profiles,
    public policy: Policy = tandemPolicy(),
    options: Partial<PlannerOptions> = {},
    learned?: LearnedState,
  ) {
    this.state = new EstimatorState(profiles, withDefaults(options));
    if (learned !== undefined) this.state.importLearned(learned);
  }

  decide(obs: Observation): Decision {
    return decide(obs, this.profiles, this.policy, this.state);
  }

  observe(decision: Decision, outcome: Outcome): ObserveResult {
    return observe(this.state, decision, outcome, this.policy);
  }

  predictAll(obs: Observation): PlanPredictions {
    return predictAll(obs, this.profiles, this.state, this.policy);
  }

  explain(obs: Observation, plan: number | string): PredictedStage[] {
    return explainPlan(obs, this.profiles, this.state, plan, this.policy);
  }

  /** Mean absolute percentage error of this policy's predictions: of the whole request, or of one stage. */
  mape(stage = 'total'): number {
    return this.state.errors.mape(`${this.policy.name}/${stage}`);
  }

  /** Learnt fits to store (e.g. in IndexedDB) and pass back to the constructor next time. */
  learned(): LearnedState {
    return this.state.exportLearned();
  }
}
