import { describe, expect, it } from 'vitest';
import { buildObservation } from '../../core/placement/observation-builder';
import { WHY_TEXT } from './explain';
import { PagePlanner } from './page-planner';

// No server here: the page planner falls back to the example profiles, as a page without published profiles does.
describe('PagePlanner with a policy from the address', () => {
  const request = { budgetMs: 2000, width: 1280, height: 960, bytes: 300_000 };

  for (const policy of ['tandem', 'layercake', 'pieslicer'] as const) {
    it(`auto mode decides with ${policy}; forced modes keep their fixed policies`, async () => {
      const p = await PagePlanner.create('fp32', { policy, learned: false });
      expect(p.keepsLearned).toBe(false);
      expect(p.restoredFits).toBe(0);
      const obs = buildObservation({ nowMs: 1000, request });
      const auto = p.decide(obs, 'auto');
      expect(auto.policy.name).toBe(policy);
      expect(auto.decision.policy).toBe(policy);
      expect(WHY_TEXT[auto.why]).toBe(auto.whyText);
      // Only Tandem decides recognition again after device detection; the baselines place whole requests.
      expect(auto.policy.redecidesRecognition === true).toBe(policy === 'tandem');
      if (policy === 'pieslicer') expect(auto.decision.plan.kind).toBe('edge');
      if (policy === 'layercake') expect(['device', 'edge']).toContain(auto.decision.plan.kind);
      expect(p.decide(obs, 'device').policy.name).toBe('device');
      expect(p.decide(obs, 'edge').policy.name).toBe('edge');
      // Learning from a run works without storage.
      p.observe(auto, { atMs: 2000, ok: true, totalMs: 900, lines: 4 });
    });
  }

  it('defaults to Tandem with learnt state kept', async () => {
    const p = await PagePlanner.create('fp32');
    expect(p.planner.policy.name).toBe('tandem');
    expect(p.keepsLearned).toBe(true);
  });
});
