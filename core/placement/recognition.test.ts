import { describe, expect, it } from 'vitest';
import { createEstimatorState, decide, decideRecognition, observe, tandemPolicy, withRecognition } from './index';
import { EXAMPLE_PROFILES as P } from './example-profiles';
import { buildObservation, linkSamples } from './observation-builder';
import { alwaysEdgePolicy } from './policies/edge';

const NOW = 60_000;
const fastLink = linkSamples({ atMs: NOW, rttMs: 10, upKbps: 400_000, downKbps: 400_000 });

describe('recognition decided again after device detection', () => {
  const first = () => {
    const state = createEstimatorState(P);
    const obs = buildObservation({ nowMs: NOW, request: { budgetMs: 1500 }, ...fastLink });
    const d = decide(obs, P, tandemPolicy(), state);
    return { state, obs, d };
  };

  it('a few lines: every crop stays on the device (no edge cost)', () => {
    const { state, obs, d } = first();
    expect(d.plan.detectOn).toBe('device');
    const r = decideRecognition({ ...obs, nowMs: NOW + 400, request: { ...obs.request, budgetMs: 1100 } }, P, state, d, 3);
    expect(r.plan.kind).toBe('device');
    expect(r.plan.config).toBe(d.plan.config);
    expect(r.inputs.lines).toBe(3);
    expect(r.fits).toBe(true);
  });

  it('sixty lines where a handful were expected: crops go to the edge over a fast link, and the prediction says so', () => {
    const { state, obs, d } = first();
    expect(d.inputs.lines).toBeLessThan(20);
    const r = decideRecognition({ ...obs, nowMs: NOW + 400, request: { ...obs.request, budgetMs: 1100 } }, P, state, d, 60);
    expect(r.plan.kind).toBe('split-rec');
    expect(r.plan.recEdgeShare).toBeGreaterThan(0);
    expect(r.plan.config).toBe(d.plan.config);
    // Recognition alone: nothing of detection is predicted again.
    expect(r.predicted.stages.some((s) => s.stage === 'det' || s.stage === 'decode')).toBe(false);
    expect(r.predicted.stages.some((s) => s.stage === 'edge-rec')).toBe(true);
    // Observing the request with the plan that ran teaches the edge recogniser and the line count.
    const merged = withRecognition(d, r);
    expect(merged.plan).toBe(r.plan);
    expect(merged.policyEstimateMs).toBe(d.policyEstimateMs);
    const before = state.linesModel.count;
    observe(state, merged, {
      atMs: NOW + 1000,
      ok: true,
      totalMs: 1000,
      lines: 60,
      deviceLines: 30,
      edge: { elapsedMs: 500, uploadBytes: 30 * 184_320, serverMs: 300, stages: { rec: 280 }, lines: 30 },
    });
    expect(state.linesModel.count).toBe(before + 1);
  });

  it('refuses a plan that did not detect on the device', () => {
    const state = createEstimatorState(P);
    const obs = buildObservation({ nowMs: NOW, ...fastLink });
    const d = decide(obs, P, alwaysEdgePolicy(), state);
    expect(() => decideRecognition(obs, P, state, d, 5)).toThrow(/does not detect on the device/);
  });
});
