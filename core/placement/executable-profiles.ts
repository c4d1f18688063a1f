/**
 * The profiles a client plans with: only the plans it can carry out. The page and the simulator both build their
 * plan space through this one function, so the simulated Tandem decides among exactly the page's plans.
 */
import type { Profiles } from '../profiles';

export interface ClientCapabilities {
  /** Model variant the device worker loads (one detector and one recogniser of that variant). */
  variant: string;
  /** Whether the client can run a detector head on the device and send its activations (the page cannot). */
  splitDetection: boolean;
}

/** What the page carries out: split recognition and races, no split detection. */
export const PAGE_CAPABILITIES: Omit<ClientCapabilities, 'variant'> = { splitDetection: false };

/**
 * Keeps the detector configurations whose detector and recogniser are the variant the device runs (the worker
 * loads one variant of each model; the default recogniser stands in when the variant's was not profiled), drops
 * split detection unless the client carries it out, and the classifier (off on both sides by default). When the
 * variant has no profiled configuration, the profiles' defaults stay.
 */
export function executableProfiles(profiles: Profiles, variant: string, capabilities: Omit<ClientCapabilities, 'variant'> = PAGE_CAPABILITIES): Profiles {
  const byId = new Map(profiles.models.map((m) => [m.id, m]));
  const ofVariant = (id: string) => byId.get(id)?.variant === variant;
  // A recogniser of the variant when profiled; else the default one stands in for it.
  const rec = profiles.models.find((m) => m.role === 'rec' && m.variant === variant)?.id ?? profiles.defaults.rec;
  let accuracy = profiles.accuracy.filter((a) => ofVariant(a.det) && a.rec === rec);
  let defaults = { ...profiles.defaults, cls: null };
  if (accuracy.length > 0) {
    const det = accuracy.find((a) => a.det === profiles.defaults.det && a.maxSide === profiles.defaults.maxSide) ?? [...accuracy].sort((a, b) => b.wordRecall - a.wordRecall)[0]!;
    defaults = { ...defaults, det: det.det, maxSide: det.maxSide, rec };
  } else {
    accuracy = profiles.accuracy.filter((a) => a.det === profiles.defaults.det && a.rec === profiles.defaults.rec);
  }
  const dets = new Set(accuracy.map((a) => a.det));
  const splits = capabilities.splitDetection ? profiles.splits.filter((s) => dets.has(s.det)) : [];
  return { ...profiles, accuracy, splits, defaults };
}
