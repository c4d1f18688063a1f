// A refusal that says how busy the edge is (503 DeadlineUnmeetable with predicted_ms and Retry-After) is information
// about the edge's queue for that long, not a reason to keep off the edge or to count it as failing. Recorded from
// the real-browser replay: after one refused receipt, the next receipts ran on the phone at 320–480 px.
import { describe, expect, it } from 'vitest';
import { createEstimatorState, decide, observe } from './index';
import { EXAMPLE_PROFILES as P } from './example-profiles';
import { buildObservation, linkSamples } from './observation-builder';
import { alwaysDevicePolicy } from './policies/device';
import { tandemPolicy } from './policies/tandem';
import type { EstimatorState } from './estimators/state';

const NOW = 60_000;
const link = (at: number) => linkSamples({ atMs: at, rttMs: 10, upKbps: 20_000, downKbps: 50_000 });
/** A portrait receipt photo: 1200×1600, dense print. */
const receipt = { width: 1200, height: 1600, bytes: 420_000 };

/** A phone `factor` times slower than the profile, learnt from device runs. */
function slowDevice(state: EstimatorState, factor: number): void {
  const policy = alwaysDevicePolicy();
  for (let k = 0; k < 4; k++) {
    const d = decide(buildObservation({ nowMs: 1000 * k, request: { budgetMs: 10_000 } }), P, policy, state);
    const dm = state.deviceModelsByKey(d.inputs.deviceRuntime)!;
    const det = dm.det[state.modelIndex.get(d.plan.config.det)!]!;
    const rec = dm.rec[state.modelIndex.get(d.plan.config.rec)!]!;
    observe(
      state,
      d,
      {
        atMs: 1000 * k + 500,
        ok: true,
        totalMs: 1,
        lines: 8,
        winner: 'device',
        device: { det: factor * det.seedAt(d.inputs.detPixels), rec: factor * rec.seedAt(8) },
      },
      policy,
    );
  }
}

function refusedReceipt(refusal: Parameters<typeof observe>[2]['refusal']) {
  const state = createEstimatorState(P);
  slowDevice(state, 4);
  const policy = tandemPolicy();
  const first = decide(buildObservation({ nowMs: NOW, request: { ...receipt, budgetMs: 2000 }, ...link(NOW) }), P, policy, state);
  // Refused 1.7 s in with 300 ms left: the edge predicted 900 ms more for it, and Retry-After 1 s.
  const at = NOW + 1700;
  observe(state, first, { atMs: at, ok: false, failure: 'refused', totalMs: 1700, refusal }, policy);
  const next = decide(buildObservation({ nowMs: at + 3000, request: { ...receipt, budgetMs: 2000 }, ...link(at + 3000) }), P, policy, state);
  return { state, first, next, at };
}

describe('refusals as information', () => {
  it('a receipt refused without reasons keeps the next one off the edge (the generic cool-down)', () => {
    const { first, next } = refusedReceipt(undefined);
    expect(first.plan.usesEdge).toBe(true);
    expect(next.plan.usesEdge).toBe(false);
    expect(next.constraints).toContain('edge-refused');
  });

  it('a refusal with predicted_ms and Retry-After leaves the edge eligible, its failure rate untouched, the next receipt at full side', () => {
    const { state, first, next } = refusedReceipt({ predictedMs: 900, budgetMs: 300, retryAfterMs: 1000 });
    expect(first.plan.usesEdge).toBe(true);
    expect(state.edge.failureProbability()).toBeCloseTo(state.options.edge.priorFailure, 6);
    expect(next.constraints).not.toContain('edge-refused');
    expect(next.plan.usesEdge).toBe(true);
    expect(next.plan.config.maxSide).toBe(first.plan.config.maxSide);
  });

  it('the reported backlog is the edge’s expected wait until it drains, then nothing', () => {
    const state = createEstimatorState(P);
    const wait = { meanMs: 0, sdMs: 0 };
    expect(state.edge.refusedWith(10_000, { predictedMs: 1500, retryAfterMs: 2000 }, 300)).toBe(true);
    expect(state.edge.queueWait(10_000, wait).meanMs).toBeCloseTo(1200);
    expect(state.edge.queueWait(10_500, wait).meanMs).toBeCloseTo(700);
    expect(state.edge.queueWait(12_500, wait).meanMs).toBeLessThan(10);
    expect(state.edge.availability(10_100, [])).not.toBe('refused');
    // Queue full, no prediction: busy until Retry-After.
    expect(state.edge.refusedWith(20_000, { retryAfterMs: 1000 }, 300)).toBe(true);
    expect(state.edge.queueWait(20_200, wait).meanMs).toBeCloseTo(800);
    // A rate limit still blocks the edge until Retry-After.
    expect(state.edge.refusedWith(30_000, { retryAfterMs: 3000, rateLimited: true }, 300)).toBe(false);
    expect(state.edge.availability(32_000, [])).toBe('refused');
    expect(state.edge.availability(33_100, [])).not.toBe('refused');
  });

  it('a request decided during the backlog sees the wait in its edge plans', () => {
    const state = createEstimatorState(P);
    const policy = tandemPolicy();
    const before = decide(buildObservation({ nowMs: NOW, request: { budgetMs: 2000 }, ...link(NOW) }), P, policy, state);
    state.edge.refusedWith(NOW, { predictedMs: 1300, retryAfterMs: 2000 }, 300);
    const during = decide(buildObservation({ nowMs: NOW + 100, request: { budgetMs: 2000 }, ...link(NOW) }), P, policy, state);
    expect(during.inputs.queueMs).toBeGreaterThan(before.inputs.queueMs + 800);
  });
});

describe('a request that ran out of time', () => {
  it('teaches a slower uplink and leaves the failure rate alone, so the next edge plans keep their own tail', () => {
    const state = createEstimatorState(P);
    slowDevice(state, 4);
    const policy = tandemPolicy();
    const first = decide(buildObservation({ nowMs: NOW, request: { ...receipt, budgetMs: 2000 }, ...link(NOW) }), P, policy, state);
    expect(first.plan.usesEdge).toBe(true);
    const upBefore = first.inputs.upKbps;
    // Given up after 4 s with the upload unanswered: the link had slowed down.
    observe(
      state,
      first,
      { atMs: NOW + 4000, ok: false, failure: 'timeout', totalMs: 4000, edgeUnanswered: { elapsedMs: 4000, uploadBytes: first.inputs.uploadBytes } },
      policy,
    );
    expect(state.edge.failureProbability()).toBeCloseTo(state.options.edge.priorFailure, 6);
    const next = decide(buildObservation({ nowMs: NOW + 4100, request: { ...receipt, budgetMs: 2000 } }), P, policy, state);
    expect(next.inputs.upKbps).toBeLessThan(upBefore / 2);
    // Unanswered, the upload had not all gone: the rate was below bytes / elapsed, and is not taken as that.
    const bound = (first.inputs.uploadBytes * 8) / 4000;
    expect(next.inputs.upKbps).toBeLessThanOrEqual(0.6 * bound);
    // A network error is a failure: it raises the probability that the fallback's tail is the plan's tail.
    observe(state, first, { atMs: NOW + 5000, ok: false, failure: 'network', totalMs: 100 }, policy);
    expect(state.edge.failureProbability()).toBeGreaterThan(0.05);
  });
});
