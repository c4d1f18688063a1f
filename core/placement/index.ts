/** Placement engine: predict every way to run an OCR request and pick one. Pure: time comes in observations. */
import type { Profiles } from '../profiles';
import { EstimatorState } from './estimators/state';
import { type PlannerOptions, withDefaults } from './options';

export function createEstimatorState(profiles: Profiles, options: Partial<PlannerOptions> = {}): EstimatorState {
  return new EstimatorState(profiles, withDefaults(options));
}

export { decide, explainPlan, predictAll } from './decide';
export type { PlanPredictions } from './decide';
export { observe } from './observe';
export type { ObserveResult } from './observe';
export type { Decision, DecisionInputs, ModelFetch, Outcome, DeviceStage, EdgeStage } from './decision';
export type { RefusalInfo } from './estimators/edge';
export type * from './observations';
export { timedByServer, transferTimeMs } from './observations';
export { EstimatorState } from './estimators/state';
export type { LearnedState } from './estimators/state';
export { Planner } from './planner';
export { DEFAULT_OPTIONS } from './options';
export type { PlannerOptions } from './options';
export type { Plan, PlanKind, Upload, DetConfig } from './plan-space';
export type { Prediction, PredictedStage, Branch } from './plans';
export type { StageName, StageWhere } from './stage-table';
export { REASON_TEXT, CONSTRAINT_TEXT, VARIANT_WORDS, fetchText } from './reasons';
export { firstDownload, recogniserFor, setRecall, variantSets } from './variant-sets';
export type { VariantSet } from './variant-sets';
export type { ReasonCode, ConstraintCode } from './reasons';
export type { Policy, PolicyName, PolicyView, Choice } from './policies/policy';
export {
  createPolicy,
  POLICY_NAMES,
  tandemPolicy,
  alwaysDevicePolicy,
  alwaysEdgePolicy,
  fixedModePolicy,
  layerCakePolicy,
  pieSlicerPolicy,
} from './policies/index';
export type { KnownPolicy } from './policies/index';
export { mostAccurateWithinBudget } from './policies/policy';
export { EXAMPLE_PROFILES } from './example-profiles';
export { executableProfiles, PAGE_CAPABILITIES } from './executable-profiles';
export type { ClientCapabilities } from './executable-profiles';
export { canRedecideRecognition, decideRecognition, withRecognition } from './recognition';
export { decideSecondLook, readFarShort } from './second-look';
export { escalationFor, type EdgeEscalation } from './escalation';
export { recInputWidth, profiledLineWidth } from './rec-width';
