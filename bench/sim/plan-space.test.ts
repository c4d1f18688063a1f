import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEstimatorState, EXAMPLE_PROFILES } from '../../core/placement';
import { parseProfiles, type Profiles } from '../../core/profiles';
import { PagePlanner } from '../../web/placement/page-planner';
import { simPlanProfiles } from './simulate';

const MEASURED = 'models/repository/profiles.json';
const sets: [string, Profiles | null][] = [
  ['example profiles', EXAMPLE_PROFILES],
  ['measured profiles', existsSync(MEASURED) ? parseProfiles(readFileSync(MEASURED, 'utf8')) : null],
];

const ids = (p: Profiles) => createEstimatorState(p).space.plans.map((x) => x.id);

describe.each(sets)('one plan space for the page and the simulator (%s)', (name, profiles) => {
  if (profiles === null) {
    it.skip(`${MEASURED} not built (npm run models): skipped`, () => {});
    return;
  }

  it('plans exactly the page’s plans by default (every variant set on the device, no split detection)', () => {
    const page = PagePlanner.plannerFor(profiles, null).state.space.plans.map((p) => p.id);
    const sim = ids(simPlanProfiles(profiles));
    expect(sim).toEqual(page);
    expect(sim.some((id) => id.startsWith('split-det:'))).toBe(false);
    const deviceVariants = new Set(profiles.models.filter((m) => m.role === 'det').map((m) => m.variant));
    expect(new Set(sim.filter((id) => id.startsWith('device:')).map((id) => id.split('@')[1]!.split('/')[0]))).toEqual(deviceVariants);
  });

  it('follows the page for another variant', () => {
    const page = PagePlanner.plannerFor(profiles, 'int8-weights').state.space.plans.map((p) => p.id);
    expect(ids(simPlanProfiles(profiles, { variant: 'int8-weights' }))).toEqual(page);
  });

  it('keeps the whole profiled space as an option', () => {
    const full = ids(simPlanProfiles(profiles, { planSpace: 'full' }));
    const page = ids(simPlanProfiles(profiles));
    expect(full.length).toBeGreaterThan(page.length);
    expect(page.every((id) => full.includes(id))).toBe(true);
    if (profiles.splits.length > 0) expect(full.some((id) => id.startsWith('split-det:'))).toBe(true);
  });
});
