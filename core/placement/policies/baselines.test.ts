import { describe, expect, it } from 'vitest';
import { createEstimatorState, decide, observe, type EstimatorState } from '../index';
import { EXAMPLE_PROFILES as P } from '../example-profiles';
import { buildObservation, linkSamples } from '../observation-builder';
import { alwaysDevicePolicy } from './device';
import { layerCakePolicy } from './layercake';
import { pieSlicerPolicy } from './pieslicer';

const NOW = 60_000;
const fastLink = linkSamples({ atMs: NOW, rttMs: 20, upKbps: 50_000, downKbps: 100_000 });

function slowDevice(state: EstimatorState, factor: number): void {
  const policy = alwaysDevicePolicy();
  for (let k = 0; k < 4; k++) {
    const d = decide(buildObservation({ nowMs: 1000 * k, request: { budgetMs: 10_000 } }), P, policy, state);
    const dm = state.deviceModelsByKey(d.inputs.deviceRuntime)!;
    const det = dm.det[state.modelIndex.get(d.plan.config.det)!]!;
    const rec = dm.rec[state.modelIndex.get(d.plan.config.rec)!]!;
    const device = { det: factor * det.seedAt(d.inputs.detPixels), rec: factor * rec.seedAt(8), decode: factor * dm.decode!.seedAt(d.inputs.imagePixels) };
    const total = device.det + device.rec + device.decode;
    observe(state, d, { atMs: 1000 * k + total, ok: true, totalMs: total, lines: 8, device }, policy);
  }
}

describe('LayerCake baseline', () => {
  it('only picks a model and a location: device-only or whole-request edge with a resized quality-0.9 upload', () => {
    const state = createEstimatorState(P);
    const policy = layerCakePolicy();
    for (const budgetMs of [300, 700, 1500, 4000]) {
      const d = decide(buildObservation({ nowMs: NOW, request: { budgetMs }, ...fastLink }), P, policy, state);
      expect(['device', 'edge']).toContain(d.plan.kind);
      expect(d.plan.race).toBe(false);
      if (d.plan.kind === 'edge') expect(d.plan.upload).toEqual({ kind: 'reencode', maxSide: 960, quality: 0.8 });
    }
  });

  it('keeps its quirk: when no device variant fits the budget it runs the fastest device variant, even if the edge would fit', () => {
    const state = createEstimatorState(P);
    slowDevice(state, 4);
    const d = decide(buildObservation({ nowMs: NOW, request: { budgetMs: 700 }, ...fastLink }), P, layerCakePolicy(), state);
    expect(d.reason).toBe('layercake-no-local-fits-fastest-local');
    expect(d.plan.kind).toBe('device');
  });

  it('sends the request to the edge when a device variant fits but a more accurate edge variant fits 0.8 × budget', () => {
    const state = createEstimatorState(P);
    slowDevice(state, 2);
    const d = decide(buildObservation({ nowMs: NOW, request: { budgetMs: 1500 }, ...fastLink }), P, layerCakePolicy(), state);
    expect(d.reason).toBe('layercake-most-accurate-feasible');
    expect(d.plan.kind).toBe('edge');
    expect(d.plan.config.maxSide).toBe(960);
  });

  it('treats the edge as cold for 10 s after a failure', () => {
    const state = createEstimatorState(P);
    slowDevice(state, 2);
    const policy = layerCakePolicy();
    const first = decide(buildObservation({ nowMs: NOW, request: { budgetMs: 1500 }, ...fastLink }), P, policy, state);
    expect(first.plan.kind).toBe('edge');
    observe(state, first, { atMs: NOW + 5000, ok: false, failure: 'timeout', totalMs: 5000 }, policy);
    const during = decide(buildObservation({ nowMs: NOW + 6000, request: { budgetMs: 1500 }, ...fastLink }), P, policy, state);
    expect(during.plan.kind).toBe('device');
  });
});

describe('PieSlicer baseline', () => {
  const big = { width: 4000, height: 3000, bytes: 5_000_000 };

  it('runs the fixed default model on the edge and only chooses where the image is prepared', () => {
    const state = createEstimatorState(P);
    const d = decide(buildObservation({ nowMs: NOW, request: { ...big, budgetMs: 3000 }, ...fastLink }), P, pieSlicerPolicy(), state);
    expect(d.plan.kind).toBe('edge');
    expect(d.plan.config.det).toBe(P.defaults.det);
    expect(d.plan.config.maxSide).toBe(P.defaults.maxSide);
  });

  it('prepares on the device when the link is slow, uploads the original when the link is fast', () => {
    const slow = decide(
      buildObservation({ nowMs: NOW, request: { ...big, budgetMs: 3000 }, ...linkSamples({ atMs: NOW, rttMs: 60, upKbps: 2000 }) }),
      P,
      pieSlicerPolicy(),
      createEstimatorState(P),
    );
    expect(slow.reason).toBe('pieslicer-preprocess-on-device');
    expect(slow.plan.upload?.kind).toBe('reencode');
    const fast = decide(
      buildObservation({ nowMs: NOW, request: { ...big, budgetMs: 3000 }, ...linkSamples({ atMs: NOW, rttMs: 2, upKbps: 400_000, bytes: 2_000_000 }) }),
      P,
      pieSlicerPolicy(),
      createEstimatorState(P),
    );
    expect(fast.reason).toBe('pieslicer-upload-original');
  });

  it('short-circuits small files', () => {
    const d = decide(
      buildObservation({
        nowMs: NOW,
        request: { width: 1600, height: 1200, bytes: 40_000, budgetMs: 3000 },
        ...linkSamples({ atMs: NOW, rttMs: 60, upKbps: 300 }),
      }),
      P,
      pieSlicerPolicy(),
      createEstimatorState(P),
    );
    expect(d.reason).toBe('pieslicer-short-circuit');
    expect(d.plan.upload?.kind).toBe('original');
  });
});
