/**
 * The profiles a client plans with: only the plans it can carry out. The page and the simulator both build their
 * plan space through this one function, so the simulated Tandem decides among exactly the page's plans.
 */
import type { Profiles, RuntimeProfile } from '../profiles';
import { variantSets } from './variant-sets';

export interface ClientCapabilities {
  /** Whether the client can run a detector head on the device and send its activations (the page cannot). */
  splitDetection: boolean;
}

/** What the page carries out: split recognition and races, no split detection. */
export const PAGE_CAPABILITIES: ClientCapabilities = { splitDetection: false };

const MODEL_STAGES = new Set(['det', 'rec', 'cls', 'create', 'first-run-extra']);

function keepModels(runtime: RuntimeProfile, keep: (model: string) => boolean): RuntimeProfile {
  return { ...runtime, stages: runtime.stages.filter((s) => s.model === undefined || !MODEL_STAGES.has(s.stage) || keep(s.model)) };
}

/**
 * The device plans with every variant set it holds or could fetch (each set's detector with its own recogniser;
 * `variant` keeps one set only, for comparisons and the page's `?variant=`, the default set when it was never
 * profiled); the edge runs its own set, the
 * profiles' default one (the page asks the edge for a side, not for models). Drops split detection unless the client
 * carries it out, and the classifier (off on both sides by default).
 */
export function executableProfiles(profiles: Profiles, variant: string | null = null, capabilities: ClientCapabilities = PAGE_CAPABILITIES): Profiles {
  const all = variantSets(profiles);
  const edgeVariant = profiles.models.find((m) => m.id === profiles.defaults.det)?.variant;
  // A variant never profiled plans with the default set's figures (it runs at their speed, near their recall).
  const named = all.some((s) => s.variant === variant) ? variant : edgeVariant;
  const sets = all.filter((s) => variant === null || s.variant === named);
  const onDevice = new Set(sets.flatMap((s) => [s.det, s.rec, ...(s.cls === null ? [] : [s.cls])]));
  const onEdge = new Set([
    profiles.defaults.det,
    profiles.defaults.rec,
    ...profiles.models.filter((m) => m.role === 'cls' && m.variant === edgeVariant).map((m) => m.id),
  ]);
  const runtimes = profiles.runtimes.map((r) => keepModels(r, (m) => (r.location === 'device' ? onDevice : onEdge).has(m)));
  const dets = new Set([...sets.map((s) => s.det), profiles.defaults.det]);
  const splits = capabilities.splitDetection ? profiles.splits.filter((s) => dets.has(s.det)) : [];
  return { ...profiles, runtimes, splits, defaults: { ...profiles.defaults, cls: null } };
}
