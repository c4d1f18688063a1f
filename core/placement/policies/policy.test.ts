// When no plan's p95 fits, the choice weighs the chance to meet the budget by what the plan reads of this photo:
// the expected word recall within the budget, which is what a user gets (a late answer reads nothing in time).
import { describe, expect, it } from 'vitest';
import type { PlanEvaluator } from '../plans';
import { chanceToMeet, mostAccurateWithinBudget, type PolicyView } from './policy';

/** Three edge plans as the planner predicted them: 320 px, 480 px and 960 px detector sides. */
function view(plans: { expected: number; p95: number; accuracy: number; edgeMs: number }[], budgetMs: number): PolicyView {
  const col = (k: 'expected' | 'p95' | 'accuracy' | 'edgeMs') => Float64Array.from(plans, (p) => p[k]);
  const predictions = {
    expected: col('expected'), p95: col('p95'), accuracy: col('accuracy'), edgeMs: col('edgeMs'),
    bytes: new Float64Array(plans.length), deviceMs: new Float64Array(plans.length),
  } as unknown as PlanEvaluator;
  return { predictions, eligible: new Uint8Array(plans.length).fill(1), budgetMs, tolerance: 0.01, bytesCostly: false } as unknown as PolicyView;
}

describe('nothing fits at p95', () => {
  const recorded = [
    { expected: 700, p95: 2200, accuracy: 0.02, edgeMs: 60 },
    { expected: 800, p95: 2600, accuracy: 0.5, edgeMs: 90 },
    { expected: 1000, p95: 3000, accuracy: 0.71, edgeMs: 180 },
  ];

  it('takes the plan expected to read the most within the budget, not the likeliest one', () => {
    const chances = recorded.map((p) => chanceToMeet(p.expected, p.p95, 1000));
    // The smaller side is likelier to make it, and reads less (but not so much less that it is another answer)...
    expect(chances[1]).toBeGreaterThan(chances[2] + 0.05);
    // ...the full side is expected to read more within the budget.
    expect(chances[2] * 0.71).toBeGreaterThan(chances[1] * 0.5);
    const choice = mostAccurateWithinBudget(view(recorded, 1000), { whenNothingFits: 'most-likely' });
    expect(choice.index).toBe(2);
    expect(choice.reason).toBe('nothing-fits-most-likely');
  });

  it('still takes a fast plan when the accurate one has no real chance', () => {
    const hopeless = [recorded[0], { ...recorded[1], accuracy: 0.08 }, { expected: 5000, p95: 9000, accuracy: 0.71, edgeMs: 180 }];
    const choice = mostAccurateWithinBudget(view(hopeless, 1000), { whenNothingFits: 'most-likely' });
    expect(choice.index).toBe(1);
    expect(choice.reason).toBe('only-low-recall-in-time');
  });

  it('between plans that read the same, the likelier one wins', () => {
    const same = recorded.map((p) => ({ ...p, accuracy: 0.7 }));
    expect(mostAccurateWithinBudget(view(same, 1000), { whenNothingFits: 'most-likely' }).index).toBe(0);
  });
});
