import { describe, expect, it } from 'vitest';
import { createEstimatorState, decide, decideSecondLook, readFarShort, tandemPolicy } from './index';
import { EXAMPLE_PROFILES as P } from './example-profiles';
import { buildObservation, linkSamples } from './observation-builder';
import { mostAccurateWithinBudget, type Policy } from './policies/policy';

const NOW = 60_000;
const fastLink = linkSamples({ atMs: NOW, rttMs: 10, upKbps: 20_000, downKbps: 50_000 });
/** A receipt photographed with its background, as the dev set's 1080 × 1527 receipts. */
const receipt = { bytes: 137_000, width: 1080, height: 1527, budgetMs: 2000 };

/** The edge at the smallest side, as Tandem chose for such a receipt when no plan's p95 fitted. */
const small: Policy = {
  name: 'tandem',
  allows: (plan) => plan.kind === 'edge' && plan.config.maxSide === 320 && !plan.race,
  choose: (view) => mostAccurateWithinBudget(view),
};

function firstRead() {
  const state = createEstimatorState(P);
  const obs = buildObservation({ nowMs: NOW, request: receipt, ...fastLink });
  const d = decide(obs, P, small, state);
  expect(d.plan.config.maxSide).toBe(320);
  return { state, obs, d };
}

describe('a second look at a larger side after a read far short of the expected lines', () => {
  it('counts a read as far short below half the expected lines, never without an expectation', () => {
    expect(readFarShort(6, 40)).toBe(true);
    expect(readFarShort(0, 2.8)).toBe(true);
    expect(readFarShort(42, 60)).toBe(false);
    expect(readFarShort(0, 0)).toBe(false);
  });

  it('six lines of a receipt expected to hold many: a larger side, likely in the time left, without a race', () => {
    const { state, obs, d } = firstRead();
    expect(d.inputs.lines).toBeGreaterThan(20);
    const left = { ...obs, nowMs: NOW + 500, request: { ...obs.request, budgetMs: 1500 } };
    const next = decideSecondLook(left, P, tandemPolicy(), state, d, 6);
    expect(next).not.toBeNull();
    expect(next!.plan.config.maxSide).toBeGreaterThan(320);
    expect(next!.reason).toBe('second-look-far-fewer-lines');
    expect(next!.plan.race).toBe(false);
    expect(next!.fallback).toBeNull();
    expect(next!.predicted.expectedMs).toBeLessThanOrEqual(1500);
  });

  it('no second look for a read near the expected lines, nor without time for one', () => {
    const { state, obs, d } = firstRead();
    const left = (ms: number) => ({ ...obs, nowMs: NOW + 500, request: { ...obs.request, budgetMs: ms } });
    expect(decideSecondLook(left(1500), P, tandemPolicy(), state, d, Math.ceil(0.6 * d.inputs.lines))).toBeNull();
    expect(decideSecondLook(left(150), P, tandemPolicy(), state, d, 6)).toBeNull();
  });

  it('no second look at a photo already read whole', () => {
    const { state, obs, d } = firstRead();
    const small = { ...obs, nowMs: NOW + 500, request: { ...obs.request, width: 226, height: 320, budgetMs: 1500 } };
    expect(decideSecondLook(small, P, tandemPolicy(), state, d, 0)).toBeNull();
  });
});
