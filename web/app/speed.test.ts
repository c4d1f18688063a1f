import { describe, expect, it } from 'vitest';
import { presetValue, SPEED_PRESETS } from './speed';

describe('presetValue', () => {
  it('names the preset a budget belongs to, else custom', () => {
    expect(presetValue(1000)).toBe('1000');
    expect(presetValue(2000)).toBe('2000');
    expect(presetValue(60_000)).toBe('60000');
    expect(presetValue(1700)).toBe('custom');
  });

  it('has Fast, Balanced and Best in rising budgets', () => {
    expect(SPEED_PRESETS.map((p) => p.label)).toEqual(['Fast', 'Balanced', 'Best']);
    expect([...SPEED_PRESETS].sort((a, b) => a.budgetMs - b.budgetMs).map((p) => p.id)).toEqual(['fast', 'balanced', 'best']);
  });
});
