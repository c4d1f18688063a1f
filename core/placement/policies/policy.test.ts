// When no plan's p95 fits, the choice weighs the chance to meet the budget by what the plan reads of this photo:
// the expected word recall within the budget, which is what a user gets (a late answer reads nothing in time).
import { describe, expect, it } from 'vitest';
import type { PlanEvaluator } from '../plans';
import { CHANCE_WEIGHT, chanceToMeet, mostAccurateWithinBudget, type PolicyView } from './policy';

/** Three edge plans as the planner predicted them: 320 px, 480 px and 960 px detector sides. */
function view(plans: { expected: number; p95: number; accuracy: number; edgeMs: number }[], budgetMs: number): PolicyView {
  const col = (k: 'expected' | 'p95' | 'accuracy' | 'edgeMs') => Float64Array.from(plans, (p) => p[k]);
  const predictions = {
    expected: col('expected'),
    p95: col('p95'),
    accuracy: col('accuracy'),
    edgeMs: col('edgeMs'),
    bytes: new Float64Array(plans.length),
    deviceMs: new Float64Array(plans.length),
  } as unknown as PlanEvaluator;
  return { predictions, eligible: new Uint8Array(plans.length).fill(1), budgetMs, tolerance: 0.01, bytesCostly: false } as unknown as PolicyView;
}

describe('nothing fits at p95', () => {
  const recorded = [
    { expected: 700, p95: 2200, accuracy: 0.02, edgeMs: 60 },
    { expected: 800, p95: 2600, accuracy: 0.5, edgeMs: 90 },
    { expected: 1000, p95: 3000, accuracy: 0.71, edgeMs: 180 },
  ];

  it('does not take the likeliest plan when it reads nothing of the photo', () => {
    const chances = recorded.map((p) => chanceToMeet(p.expected, p.p95, 1000));
    // The 320 px plan is the likeliest to make it (the recorded empty answer)...
    expect(chances[0]).toBeGreaterThan(chances[1]);
    const choice = mostAccurateWithinBudget(view(recorded, 1000), { whenNothingFits: 'most-likely' });
    // ...the 480 px plan is nearly as likely and reads the photo (not so much less than 960 px that it is another
    // answer); the 960 px plan reads more but is much less likely to arrive in time.
    expect(choice.index).toBe(1);
    expect(choice.reason).toBe('nothing-fits-most-likely');
    const score = (i: number) => chances[i] ** CHANCE_WEIGHT * recorded[i].accuracy;
    expect(score(1)).toBeGreaterThan(Math.max(score(0), score(2)));
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
