import { describe, expect, it } from 'vitest';
import { createEstimatorState, decide, explainPlan, observe, predictAll } from './index';
import { EXAMPLE_PROFILES as P } from './example-profiles';
import { buildObservation, linkSamples } from './observation-builder';
import { alwaysEdgePolicy } from './policies/edge';
import { alwaysDevicePolicy } from './policies/device';
import type { Policy } from './policies/policy';
import type { EstimatorState } from './estimators/state';
import type { Decision } from './decision';
import { edgeRecLaneShare } from './rec-width';

const NOW = 50_000;

/** An edge status whose detector has one latency bucket at 960 × 736. */
const detStatus = (count: number, ewmaMs: number) => ({
  serverTime: 0,
  uptimeMs: 1,
  models: [
    {
      name: 'ppocr-det',
      version: '1',
      variant: 'fp32',
      state: 'ready' as const,
      inFlight: 0,
      queued: 0,
      latency: [{ size: '1x3x736x960', count, ewmaMs, p90Ms: ewmaMs }],
    },
  ],
  pool: { workers: 2, intraOpThreads: 1, busy: 0, queued: 0 },
});

/** The edge detector's predicted time for a 1280 × 980 photo at 960 px. */
function edgeDetOf(state: EstimatorState): number {
  const all = predictAll(buildObservation({ nowMs: NOW, request: { width: 1280, height: 980 } }), P, state);
  const i = all.plans.findIndex((p) => p.id === 'edge:ppocr-det@fp32/960:original');
  return explainPlan(buildObservation({ nowMs: NOW }), P, state, i).find((s) => s.stage === 'edge-det')!.expectedMs;
}

describe('observe', () => {
  it('records prediction errors per policy and stage, and the fits move towards what happened', () => {
    const state = createEstimatorState(P);
    const policy = alwaysDevicePolicy();
    const obs = buildObservation({ nowMs: NOW });
    const d = decide(obs, P, policy, state);
    const det = d.predicted.stages.find((s) => s.stage === 'det')!.expectedMs;
    const r1 = observe(state, d, { atMs: NOW + 900, ok: true, totalMs: 900, lines: 12, device: { det: det * 1.5 } }, policy);
    expect(r1.stages.det).toBeCloseTo(1 / 3, 2);
    expect(state.errors.mape('device/det')).toBeCloseTo(1 / 3, 2);
    expect(state.errors.get('device/total')!.count).toBe(1);
    const again = decide(obs, P, policy, state);
    expect(again.predicted.stages.find((s) => s.stage === 'det')!.expectedMs).toBeGreaterThan(det * 1.2);
    // Lines per image moved from the prior (8) towards 12, and so did recognition time.
    expect(again.inputs.lines).toBeGreaterThan(d.inputs.lines);
  });

  it('learns the uplink from an edge reply (elapsed minus server time, round trip and reply)', () => {
    const state = createEstimatorState(P);
    const policy = alwaysEdgePolicy();
    const obs = buildObservation({ nowMs: NOW, rtt: [{ atMs: NOW - 100, rttMs: 30 }] });
    const d = decide(obs, P, policy, state);
    expect(d.plan.kind).toBe('edge');
    expect(d.inputs.bandwidthSource).toBe('prior');
    const bytes = d.inputs.uploadBytes;
    const kbps = 4000;
    const serverMs = 250;
    observe(
      state,
      d,
      { atMs: NOW + 1000, ok: true, totalMs: 1000, edge: { elapsedMs: 30 + (bytes * 8) / kbps + serverMs, uploadBytes: bytes, serverMs } },
      policy,
    );
    const next = decide(buildObservation({ nowMs: NOW + 2000 }), P, policy, state);
    expect(next.inputs.bandwidthSource).toBe('samples');
    expect(next.inputs.upKbps).toBeCloseTo(kbps, -1);
  });

  it('a reply that came back with the whole request in less time than the downlink estimate allows raises it', () => {
    const state = createEstimatorState(P);
    const policy = alwaysEdgePolicy();
    // The page's download probe met a slow moment: 48 KB in 5 s, about 77 kbit/s.
    const probe = { atMs: NOW - 500, direction: 'down' as const, bytes: 48 * 1024, elapsedMs: 5_000 + 300, serverMs: 0 };
    const obs = buildObservation({ nowMs: NOW, rtt: [{ atMs: NOW - 600, rttMs: 300 }], throughput: [probe] });
    const d = decide(obs, P, policy, state);
    expect(d.inputs.downKbps).toBeLessThan(100);
    const reply = { atMs: NOW + 1200, ok: true, totalMs: 1200 };
    // 16 KB of lines back within a 1.1 s request that spent 0.2 s on the server: at least 16 KB in 0.6 s.
    observe(state, d, { ...reply, edge: { elapsedMs: 1_100, uploadBytes: d.inputs.uploadBytes, downloadBytes: 16_000, serverMs: 200 } }, policy);
    const next = decide(buildObservation({ nowMs: NOW + 1500, rtt: [{ atMs: NOW - 600, rttMs: 300 }] }), P, policy, state);
    expect(next.inputs.downKbps).toBeGreaterThanOrEqual((16_000 * 8) / 600 - 1);
  });

  it('learns the edge detector from /v1/status latency buckets, once per new run', () => {
    const state = createEstimatorState(P);
    const edgeDet = () => edgeDetOf(state);
    const before = edgeDet();
    for (let k = 1; k <= 6; k++) state.ingest(buildObservation({ nowMs: NOW + k, edge: { status: detStatus(k, 400), statusAtMs: NOW + k } }));
    const after = edgeDet();
    expect(after).toBeGreaterThan(before * 1.8);
    // The same snapshot again (no new runs) teaches nothing.
    state.ingest(buildObservation({ nowMs: NOW + 10, edge: { status: detStatus(6, 4000), statusAtMs: NOW + 10 } }));
    expect(edgeDet()).toBeCloseTo(after, 6);
  });

  it('takes a bucket first seen as history of unknown load, and learns the new runs alone from the next snapshots', () => {
    // Recorded: ten receipts read at once left the bucket at about three times an idle edge's detector time; a page
    // opened then took it whole and predicted the idle edge's detector many times too slow.
    const state = createEstimatorState(P);
    const edgeDet = () => edgeDetOf(state);
    const before = edgeDet();
    const idleMs = before * 1.5;
    state.ingest(buildObservation({ nowMs: NOW + 1, edge: { status: detStatus(40, before * 5), statusAtMs: NOW + 1 } }));
    expect(edgeDet()).toBeLessThan(before * 1.6);
    // Then the idle edge's own runs, one per snapshot: the bucket's EWMA comes down slowly, the runs are at 1.5×.
    let ewma = before * 5;
    for (let k = 1; k <= 6; k++) {
      ewma = 0.2 * idleMs + 0.8 * ewma;
      state.ingest(buildObservation({ nowMs: NOW + 1 + k, edge: { status: detStatus(40 + k, ewma), statusAtMs: NOW + 1 + k } }));
    }
    expect(ewma).toBeGreaterThan(idleMs * 1.6);
    expect(Math.abs(edgeDet() - idleMs) / idleMs).toBeLessThan(0.2);
  });

  it('explains any plan by id, and refuses an unknown one', () => {
    const state = createEstimatorState(P);
    const stages = explainPlan(buildObservation({ nowMs: NOW }), P, state, 'split-rec:ppocr-det@fp32/960:edge50%');
    expect(new Set(stages.map((s) => s.branch))).toEqual(new Set(['main', 'device', 'edge', 'fallback']));
    expect(() => explainPlan(buildObservation(), P, state, 'nope')).toThrowError(expect.objectContaining({ name: 'PlacementNoPlan' }));
  });

  it('learns how big re-encoded uploads really are', () => {
    const state = createEstimatorState(P);
    const policy = alwaysEdgePolicy();
    const obs = buildObservation({ nowMs: NOW, preferences: { saveData: true }, ...linkSamples({ atMs: NOW, rttMs: 20, upKbps: 20_000 }) });
    const d = decide(obs, P, policy, state);
    expect(d.plan.upload?.kind).toBe('reencode');
    for (let k = 0; k < 10; k++) observe(state, d, { atMs: NOW + k, ok: true, totalMs: 500, reencodedBytes: d.inputs.uploadBytes * 2 }, policy);
    expect(decide(obs, P, policy, state).inputs.uploadBytes).toBeGreaterThan(d.inputs.uploadBytes * 1.8);
  });

  it('attributes device stages after a lost race or a failed edge request to the fallback plan and its input size', () => {
    const state = createEstimatorState(P);
    const policy = alwaysEdgePolicy();
    const obs = buildObservation({ nowMs: NOW, request: { budgetMs: 700 }, ...linkSamples({ atMs: NOW, rttMs: 20, upKbps: 50_000 }) });
    const d = decide(obs, P, policy, state);
    const fallback = d.fallback!.plan;
    expect(d.plan.kind).toBe('edge');
    expect(fallback.config.maxSide).not.toBe(d.plan.config.maxSide);
    expect(d.inputs.fallbackDetPixels).not.toBe(d.inputs.detPixels);
    const fallbackDet = () => explainPlan(obs, P, state, fallback.index).find((s) => s.stage === 'det')!.expectedMs;
    const before = fallbackDet();
    observe(state, d, { atMs: NOW + 800, ok: true, totalMs: 800, winner: 'device', lines: 8, device: { det: before * 1.5 } }, policy);
    // The device ran the fallback's detector at the fallback's size, 1.5× slower than predicted: its fit moves up.
    expect(fallbackDet()).toBeGreaterThan(before * 1.15);
    expect(state.errors.mape('edge/det')).toBeCloseTo(1 / 3, 2);
  });

  it('a raced device run slower than predicted teaches the device a little; the same run after a failed edge, fully', () => {
    const obs = buildObservation({ nowMs: NOW, request: { budgetMs: 700 }, ...linkSamples({ atMs: NOW, rttMs: 20, upKbps: 50_000 }) });
    const after = (race: boolean) => {
      const state = createEstimatorState(P);
      const policy: Policy = {
        name: 'edge',
        allows: (p) => p.kind === 'edge' && p.race === race && p.upload?.kind === 'original',
        choose: (view) => ({ index: view.eligible.indexOf(1), reason: 'most-accurate-within-budget' }),
      };
      const d = decide(obs, P, policy, state);
      expect(d.plan.race).toBe(race);
      const rec = () => explainPlan(obs, P, state, d.fallback!.plan.index).find((s) => s.stage === 'rec')!.expectedMs;
      const before = rec();
      for (let k = 0; k < 3; k++) {
        const failed = race ? {} : { failure: 'timeout' as const };
        observe(
          state,
          d,
          { atMs: NOW + 800 * (k + 1), ok: true, totalMs: 800, winner: 'device', lines: d.inputs.lines, device: { rec: 2 * before }, ...failed },
          policy,
        );
      }
      return rec() / before;
    };
    expect(after(false)).toBeGreaterThan(1.8);
    expect(after(true)).toBeLessThan(1.5);
  });
});

describe('an edge that recognises a photo on all its worker slots', () => {
  const receipt = (nowMs: number, status?: ReturnType<typeof detStatus>) =>
    buildObservation({
      nowMs,
      request: { width: 960, height: 1800, bytes: 300_000, budgetMs: 60_000 },
      ...(status && { edge: { status, statusAtMs: nowMs } }),
    });
  const edgeRec = (d: Decision) => d.predicted.stages.filter((s) => s.stage === 'edge-rec').reduce((t, s) => t + s.expectedMs, 0);

  it('is predicted at its lanes’ share of one-batch-at-a-time, and teaches in the same units', () => {
    const policy = alwaysEdgePolicy();
    const one = createEstimatorState(P);
    const alone = decide(receipt(NOW), P, policy, one);
    const state = createEstimatorState(P);
    const two = { ...detStatus(1, 100), pool: { workers: 2, intraOpThreads: 1, busy: 0, queued: 0 } };
    const d = decide(receipt(NOW, two), P, policy, state);
    expect(d.inputs.lines).toBeGreaterThan(30);
    expect(edgeRec(d) / edgeRec(alone)).toBeCloseTo(edgeRecLaneShare(d.inputs.lines, 2), 3);
    // Measured just as predicted, several times: the prediction stays (taught at one-batch-at-a-time, it would fall by
    // the lanes' share again).
    for (let k = 1; k <= 4; k++) {
      const dk = decide(receipt(NOW + 1000 * k), P, policy, state);
      observe(
        state,
        dk,
        {
          atMs: NOW + 1000 * k + 900,
          ok: true,
          totalMs: 900,
          winner: 'edge',
          lines: Math.round(dk.inputs.lines),
          edge: { elapsedMs: 900, uploadBytes: 300_000, serverMs: 800, queueMs: 0, stages: { rec: edgeRec(dk) }, lines: Math.round(dk.inputs.lines) },
        },
        policy,
      );
    }
    expect(Math.abs(edgeRec(decide(receipt(NOW + 9000), P, policy, state)) / edgeRec(d) - 1)).toBeLessThan(0.1);
  });
});

describe('observe: an edge reply that detected twice', () => {
  it('teaches neither the detector nor the service time; its recognition still counts', () => {
    const run = (escalated: boolean) => {
      const state = createEstimatorState(P);
      const policy = alwaysEdgePolicy();
      const d = decide(buildObservation({ nowMs: NOW }), P, policy, state);
      const service = state.edge.service.mean;
      const det = edgeDetOf(state);
      // Stages as execute() reports them: an escalated reply's detection stages are left out.
      const stages = escalated ? { decode: 5, rec: 400 } : { decode: 5, det: 4 * det, rec: 400 };
      observe(
        state,
        d,
        {
          atMs: NOW + 900,
          ok: true,
          totalMs: 5000,
          lines: 30,
          edge: { elapsedMs: 5000, uploadBytes: 100_000, serverMs: 4800, queueMs: 0, stages, lines: 30, escalated },
        },
        policy,
      );
      return { serviceMoved: state.edge.service.mean !== service, detMoved: edgeDetOf(state) !== det };
    };
    expect(run(false)).toEqual({ serviceMoved: true, detMoved: true });
    expect(run(true)).toEqual({ serviceMoved: false, detMoved: false });
  });
});
