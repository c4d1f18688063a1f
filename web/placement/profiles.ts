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

/** The page's plan space comes from the same function the simulator uses (see core/placement/executable-profiles.ts). */
export { executableProfiles } from '../../core/placement';

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
