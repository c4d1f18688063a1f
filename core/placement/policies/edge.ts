/**
 * Baseline: the whole request on the edge, no race and no device work beyond a re-encode when Save-Data forbids
 * the original; the most accurate configuration that fits, else the fastest. Falls back to the device only when
 * the edge cannot be used at all (offline, refused, not ready).
 */
import { mostAccurateWithinBudget, type Policy } from './policy';

export function alwaysEdgePolicy(): Policy {
  return { name: 'edge', allows: (plan) => plan.kind === 'edge' && !plan.race, choose: mostAccurateWithinBudget };
}
