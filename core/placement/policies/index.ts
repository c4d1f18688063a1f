/** Every policy by name, one fresh instance per call (baselines keep estimators of their own). */
import { alwaysDevicePolicy } from './device';
import { alwaysEdgePolicy } from './edge';
import { fixedModePolicy } from './fixed-mode';
import { layerCakePolicy } from './layercake';
import { pieSlicerPolicy } from './pieslicer';
import type { Policy } from './policy';
import { tandemPolicy } from './tandem';

export const POLICY_NAMES = ['tandem', 'device', 'edge', 'layercake', 'pieslicer'] as const;
export type KnownPolicy = (typeof POLICY_NAMES)[number];

export function createPolicy(name: KnownPolicy): Policy {
  switch (name) {
    case 'tandem':
      return tandemPolicy();
    case 'device':
      return alwaysDevicePolicy();
    case 'edge':
      return alwaysEdgePolicy();
    case 'layercake':
      return layerCakePolicy();
    case 'pieslicer':
      return pieSlicerPolicy();
  }
}

export { alwaysDevicePolicy, alwaysEdgePolicy, fixedModePolicy, layerCakePolicy, pieSlicerPolicy, tandemPolicy };
