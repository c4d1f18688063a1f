/** Baseline: everything on the device; the most accurate configuration that fits, else the fastest. */
import { mostAccurateWithinBudget, type Policy } from './policy';

export function alwaysDevicePolicy(): Policy {
  return { name: 'device', allows: (plan) => plan.kind === 'device', choose: mostAccurateWithinBudget };
}
