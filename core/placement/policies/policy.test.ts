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
  // One model variant set for all.
  const space = { config: new Uint16Array(plans.length), configs: [{ variant: 'fp32' }] };
  return {
    predictions,
    space,
    eligible: new Uint8Array(plans.length).fill(1),
    budgetMs,
    tolerance: 0.01,
    variantTolerance: 0.01,
    bytesCostly: false,
  } as unknown as PolicyView;
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

  it('a plan expected at many times the budget is out of reach however wide its spread', () => {
    // Receipt 173 on 5G at 1000 ms: edge at 960 px as edge mode predicted it, and split recognition at 480 px that
    // first downloads a model set (expected 10.2 s, p95 148 s); the latter, taken, ran 56 s.
    const receipt = [
      { expected: 2569, p95: 4246, accuracy: 0.9, edgeMs: 2300 },
      { expected: 10205, p95: 147906, accuracy: 0.6, edgeMs: 2478 },
    ];
    expect(chanceToMeet(receipt[1].expected, receipt[1].p95, 1000)).toBeGreaterThan(0.05);
    const choice = mostAccurateWithinBudget(view(receipt, 1000), { whenNothingFits: 'most-likely' });
    expect(choice.index).toBe(0);
    expect(choice.reason).toBe('nothing-fits-least-late');
  });

  it('between plans that read the same, the likelier one wins', () => {
    const same = recorded.map((p) => ({ ...p, accuracy: 0.7 }));
    expect(mostAccurateWithinBudget(view(same, 1000), { whenNothingFits: 'most-likely' }).index).toBe(0);
  });
});

describe('plans fit at p95, but read far less of the photo', () => {
  // The first receipt of a session on Wi-Fi, 2 s: 320 px fitted for sure and read a fifth of its words; 960 px was
  // predicted a p95 just past the budget (edge mode read the receipt at 960 px in 1.5 s, 0.98 of its words).
  const receipt = [
    { expected: 1314, p95: 1994, accuracy: 0.25, edgeMs: 900 },
    { expected: 1450, p95: 2300, accuracy: 0.9, edgeMs: 1300 },
  ];

  it('takes the plan that reads the photo well when it is likely to make it', () => {
    const choice = mostAccurateWithinBudget(view(receipt, 2000), { whenNothingFits: 'most-likely' });
    expect(choice.index).toBe(1);
    expect(choice.reason).toBe('likely-in-time-reads-more');
    // It is expected to read more within the budget, a late answer reading nothing.
    const chance = chanceToMeet(receipt[1].expected, receipt[1].p95, 2000);
    expect(chance ** CHANCE_WEIGHT * receipt[1].accuracy).toBeGreaterThan(receipt[0].accuracy);
  });

  it('weighs the plans that read well by their own chance, not the likeliest plan of all', () => {
    // A scene on LTE at 2 s: 480 px sure and predicted to keep two fifths of what 960 px reads (it kept none); 640 px
    // likelier than 960 px but reading little more. The likeliest plan by chance^w × recall is the 640 px one, which
    // does not read the photo well, so 960 px (in edge mode: 0.56 s, 0.67 of the words) was never weighed.
    const scene = [
      { expected: 1136, p95: 1900, accuracy: 0.28, edgeMs: 40 },
      { expected: 1250, p95: 2300, accuracy: 0.4, edgeMs: 90 },
      { expected: 1500, p95: 3000, accuracy: 0.7, edgeMs: 180 },
    ];
    const choice = mostAccurateWithinBudget(view(scene, 2000), { whenNothingFits: 'most-likely' });
    expect(choice.index).toBe(2);
    expect(choice.reason).toBe('likely-in-time-reads-more');
    const chance = chanceToMeet(scene[2].expected, scene[2].p95, 2000);
    expect(chance).toBeGreaterThan(0.5);
    expect(chance * scene[2].accuracy).toBeGreaterThan(scene[0].accuracy);
  });

  it('keeps the sure plan, and says so, when the one that reads well is more likely late than not', () => {
    const late = [receipt[0], { ...receipt[1], expected: 2100, p95: 2800 }];
    const choice = mostAccurateWithinBudget(view(late, 2000), { whenNothingFits: 'most-likely' });
    expect(choice.index).toBe(0);
    expect(choice.reason).toBe('only-low-recall-in-time');
  });
});

describe('cheaper plans among the ties', () => {
  // A scene on a 5G walk, 4 s: split recognition (detection at 960 px on the quarter-speed phone, the lines on the
  // edge) and the whole request on the edge read the same; the split fitted with its p95 3.9 s and cost the edge a
  // tenth as much. It was chosen, the crops' upload met a stall, and the answer came at 6.6 s; edge mode took 1.7 s.
  const scene = [
    { expected: 2428, p95: 3905, accuracy: 0.6, edgeMs: 90 },
    { expected: 288, p95: 560, accuracy: 0.6, edgeMs: 1000 },
  ];

  it('are taken only when about as sure to make it as the surest tie', () => {
    expect(chanceToMeet(scene[0].expected, scene[0].p95, 4000)).toBeLessThan(0.97);
    const choice = mostAccurateWithinBudget(view(scene, 4000));
    expect(choice.index).toBe(1);
    expect(choice.reason).toBe('most-accurate-within-budget');
  });

  it('still save the edge when the budget leaves the split room', () => {
    expect(chanceToMeet(scene[0].expected, scene[0].p95, 8000)).toBeGreaterThan(0.999);
    const choice = mostAccurateWithinBudget(view(scene, 8000));
    expect(choice.index).toBe(0);
    expect(choice.reason).toBe('most-accurate-within-budget');
  });
});
