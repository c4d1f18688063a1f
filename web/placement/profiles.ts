/**
 * Profiles for the page's planner: the measured profiles.json the server publishes, or the built-in example figures
 * when it has none, narrowed to the plans this page can carry out.
 */
import { EXAMPLE_PROFILES } from '../../core/placement';
import { parseProfiles, type Profiles } from '../../core/profiles';

export interface PageProfiles {
  profiles: Profiles;
  /** 'example' when the server published no (valid) profiles: the UI says the figures are illustrative. */
  source: 'measured' | 'example';
  /** Why the example figures are used, when they are. */
  note?: string;
}

/**
 * Keeps the detector configurations whose detector and recogniser are the variant the device runs (the worker
 * loads one variant of each model; the default recogniser stands in when the variant's was not profiled), drops split detection (not carried out by the page) and the classifier
 * (off on both sides by default). When the variant has no profiled configuration, the profiles' defaults stay.
 */
export function executableProfiles(profiles: Profiles, variant: string): Profiles {
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
  return { ...profiles, accuracy, splits: [], defaults };
}

/** Fetches /models/profiles.json; any failure (none published, unreadable, invalid) falls back to the example figures. */
export async function loadProfiles(fetchFn: typeof fetch = fetch, url = '/models/profiles.json'): Promise<PageProfiles> {
  try {
    const response = await fetchFn(url, { cache: 'no-cache' });
    if (!response.ok) return { profiles: EXAMPLE_PROFILES, source: 'example', note: `no measured profiles on this server (${response.status})` };
    const profiles = parseProfiles(await response.text());
    return { profiles, source: profiles.source.kind === 'example' ? 'example' : 'measured' };
  } catch (error) {
    return { profiles: EXAMPLE_PROFILES, source: 'example', note: `measured profiles unusable: ${error instanceof Error ? error.message : String(error)}` };
  }
}
