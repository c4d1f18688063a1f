/**
 * The page's fixed modes (This device, Edge): the profiles' default side only, run where the user asked; the edge
 * runs its own (the default) models on the original photo with no device race, the device the variant set it holds
 * or would fetch (sets within a point of each other tie; the held one, else the smaller download, wins). The planner
 * still predicts them, so their runs teach it.
 */
import type { Profiles } from '../../profiles';
import type { Plan } from '../plan-space';
import { mostAccurateWithinBudget, type Policy } from './policy';

export function fixedModePolicy(kind: 'device' | 'edge', profiles: Profiles): Policy {
  const d = profiles.defaults;
  const allows = (plan: Plan) =>
    plan.kind === kind &&
    (kind === 'device' || plan.config.det === d.det) &&
    plan.config.maxSide === d.maxSide &&
    !plan.race &&
    (kind === 'device' || plan.upload?.kind === 'original');
  return { name: kind, allows, choose: mostAccurateWithinBudget };
}
