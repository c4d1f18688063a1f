import { describe, expect, it } from 'vitest';
import { alwaysEdgePolicy, createEstimatorState, decide, explainPlan } from './index';
import { EXAMPLE_PROFILES as P } from './example-profiles';
import { buildObservation, linkSamples } from './observation-builder';
import { mostAccurateWithinBudget, type Policy } from './policies/policy';
import { SHORT_READ_SHARE } from './second-look';

const NOW = 60_000;
const fastLink = linkSamples({ atMs: NOW, rttMs: 10, upKbps: 20_000, downKbps: 50_000 });
/** A receipt photographed with its background, as the dev set's 1080 × 1527 receipts. */
const receipt = { bytes: 137_000, width: 1080, height: 1527, budgetMs: 2000 };

/** An edge plan at `side` from a policy that looks again when short (as Tandem does). */
const at = (side: number, looksAgainWhenShort = true): Policy => ({
  name: 'tandem',
  looksAgainWhenShort,
  allows: (plan) => plan.kind === 'edge' && plan.config.maxSide === side && !plan.race && plan.upload?.kind === 'original',
  choose: (view) => mostAccurateWithinBudget(view),
});

function decideAt(policy: Policy, request = receipt) {
  const state = createEstimatorState(P);
  const obs = buildObservation({ nowMs: NOW, request, ...fastLink });
  return { state, obs, d: decide(obs, P, policy, state) };
}

describe('asking the edge to detect again at a larger side when its first detection is far short', () => {
  it('a receipt read at 640 px: detect again at the largest side below half the lines expected, costed as that plan after its upload', () => {
    const { state, obs, d } = decideAt(at(640));
    expect(d.plan.config.maxSide).toBe(640);
    const e = d.escalation!;
    expect(e.maxSide).toBe(960);
    expect(e.belowLines).toBeCloseTo(SHORT_READ_SHARE * d.inputs.lines, 6);
    expect(d.inputs.lines).toBeGreaterThan(20);
    // The cost is the larger plan's detection, recognition and reply: less than that plan whole (no second upload).
    const larger = explainPlan(obs, P, state, e.planId);
    const sum = (names: string[]) => larger.filter((s) => names.includes(s.stage)).reduce((a, s) => a + s.expectedMs, 0);
    expect(e.costMs).toBeCloseTo(sum(['edge-det-preprocess', 'edge-det', 'edge-postprocess', 'edge-cls', 'edge-rec', 'download']), 6);
    expect(sum(['edge-det', 'edge-rec'])).toBeGreaterThan(0);
    expect(e.costMs).toBeLessThan(Math.max(...larger.map((s) => s.startMs + s.expectedMs)));
  });

  it('none at the largest side, for a photo smaller than the side, for device plans or for policies that do not look again', () => {
    expect(decideAt(at(960)).d.escalation).toBeNull();
    expect(decideAt(at(640), { ...receipt, width: 300, height: 420 }).d.escalation).toBeNull();
    expect(decideAt(at(640, false)).d.escalation).toBeNull();
    expect(decideAt(alwaysEdgePolicy()).d.escalation).toBeNull();
    const device: Policy = {
      name: 'tandem',
      looksAgainWhenShort: true,
      allows: (p) => p.kind === 'device' && p.config.maxSide === 640,
      choose: (v) => mostAccurateWithinBudget(v),
    };
    expect(decideAt(device).d.escalation).toBeNull();
  });
});
