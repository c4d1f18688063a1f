/**
 * The page's fixed modes (This device, Edge): the profiles' default configuration only, run where the user asked;
 * the edge gets the original photo and no device race. The planner still predicts them, so their runs teach it.
 */
import type { Profiles } from '../../profiles';
import type { Plan } from '../plan-space';
import { mostAccurateWithinBudget, type Policy } from './policy';

export function fixedModePolicy(kind: 'device' | 'edge', profiles: Profiles): Policy {
  const d = profiles.defaults;
  const allows = (plan: Plan) =>
    plan.kind === kind && plan.config.det === d.det && plan.config.maxSide === d.maxSide && !plan.race && (kind === 'device' || plan.upload?.kind === 'original');
  return { name: kind, allows, choose: mostAccurateWithinBudget };
}
