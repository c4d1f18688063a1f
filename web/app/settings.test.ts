import { describe, expect, it } from 'vitest';
import { loadOptionsFromUrl, runSettingsFromUrl } from './settings';

describe('runSettingsFromUrl', () => {
  it('defaults to the Tandem policy, learnt state kept, the saved budget', () => {
    expect(runSettingsFromUrl('')).toEqual({ policy: 'tandem', learned: true });
  });

  it('selects a baseline policy by name and ignores names auto mode cannot use', () => {
    expect(runSettingsFromUrl('?policy=layercake').policy).toBe('layercake');
    expect(runSettingsFromUrl('?policy=pieslicer').policy).toBe('pieslicer');
    expect(runSettingsFromUrl('?policy=tandem').policy).toBe('tandem');
    // Fixed placements are the mode select's business, not a policy of auto mode.
    expect(runSettingsFromUrl('?policy=device').policy).toBe('tandem');
    expect(runSettingsFromUrl('?policy=LayerCake').policy).toBe('tandem');
  });

  it('turns learnt state off with learned=0', () => {
    expect(runSettingsFromUrl('?learned=0').learned).toBe(false);
    expect(runSettingsFromUrl('?learned=false').learned).toBe(false);
    expect(runSettingsFromUrl('?learned=1').learned).toBe(true);
    expect(runSettingsFromUrl('?policy=pieslicer&learned=0')).toEqual({ policy: 'pieslicer', learned: false });
  });

  it('takes a mode from the address, and nothing else as a mode', () => {
    expect(runSettingsFromUrl('?mode=device').mode).toBe('device');
    expect(runSettingsFromUrl('?mode=edge').mode).toBe('edge');
    expect(runSettingsFromUrl('?mode=auto').mode).toBe('auto');
    expect(runSettingsFromUrl('?mode=phone').mode).toBeUndefined();
  });

  it('takes a budget within the field range only', () => {
    expect(runSettingsFromUrl('?budget=1500').budgetMs).toBe(1500);
    expect(runSettingsFromUrl('?budget=100').budgetMs).toBe(100);
    for (const bad of ['99', '60001', 'abc', '', '-5']) expect(runSettingsFromUrl(`?budget=${bad}`).budgetMs).toBeUndefined();
  });

  it('leaves the runtime overrides to loadOptionsFromUrl', () => {
    expect(loadOptionsFromUrl('?policy=layercake&learned=0&budget=900&threads=2')).toEqual({ threads: 2 });
  });
});
