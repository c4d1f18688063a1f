import { describe, expect, it } from 'vitest';
import { createEstimatorState, decide, explainPlan, predictAll } from './index';
import { EXAMPLE_PROFILES as P } from './example-profiles';
import { buildObservation, linkSamples } from './observation-builder';
import { tandemPolicy } from './policies/tandem';

const NOW = 30_000;
const obs = (budgetMs: number, upKbps = 8000, photo: { width?: number; height?: number; bytes?: number } = {}) =>
  buildObservation({ nowMs: NOW, request: { budgetMs, ...photo }, ...linkSamples({ atMs: NOW, rttMs: 40, upKbps, downKbps: upKbps * 3 }) });
/** A portrait page: tens of lines, some of them found at any side, so a race's device answer always ends it. */
const page = { width: 960, height: 1280, bytes: 250_000 };

describe('plan space', () => {
  it('enumerates every combination the profiles allow, with unique ids', () => {
    const state = createEstimatorState(P);
    const ids = state.space.plans.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const kinds = new Set(state.space.plans.map((p) => p.kind));
    expect(kinds).toEqual(new Set(['device', 'edge', 'split-det', 'split-rec']));
    // 6 configurations × (device + 2 line shares) + 3 fp32 splits + uploads (original + re-encodes ≥ side) × (plain, race).
    const uploads = P.accuracy.reduce((n, a) => n + 1 + P.reencode.filter((r) => r.maxSide >= a.maxSide).length, 0);
    expect(state.space.plans.length).toBe(6 * 3 + 3 + 2 * uploads);
  });
});

describe('plan predictions', () => {
  it('a device plan’s expected latency is the sum of its stages', () => {
    const state = createEstimatorState(P);
    const all = predictAll(obs(2000), P, state);
    const i = all.plans.findIndex((p) => p.id === 'device:ppocr-det@fp32/640');
    const stages = explainPlan(obs(2000), P, state, i);
    expect(stages.every((s) => s.branch === 'main' && s.where === 'device')).toBe(true);
    expect(stages.reduce((a, s) => a + s.expectedMs, 0)).toBeCloseTo(all.expectedMs[i], 6);
    expect(all.edgeMs[i]).toBe(0);
    expect(all.transferBytes[i]).toBe(0);
  });

  it('a race is never slower (p95) than its edge plan alone, and its device run starts in time for the budget once the upload is prepared', () => {
    const state = createEstimatorState(P);
    for (const budget of [600, 1200, 2500]) {
      const all = predictAll(obs(budget, 1500, page), P, state);
      for (let i = 0; i < all.plans.length; i++) {
        const p = all.plans[i];
        if (!p.race) continue;
        const plain = all.plans.findIndex((q) => q.id === p.id.replace('+race', ''));
        expect(all.p95Ms[i]).toBeLessThanOrEqual(all.p95Ms[plain] + 1e-9);
        expect(all.expectedMs[i]).toBeLessThanOrEqual(all.expectedMs[plain] + 1e-9);
        // The device run waits for the re-encode (the same worker prepares the upload), not for the edge.
        const prepared = all.deviceMs[plain];
        if (all.p95Ms[all.fallback] < budget) expect(all.p95Ms[i]).toBeLessThanOrEqual(Math.max(budget, prepared + all.p95Ms[all.fallback]) + 1e-9);
        expect(all.p95Ms[i]).toBeLessThanOrEqual(Math.max(all.hedgeAtMs, prepared) + all.p95Ms[all.fallback] + 1e-9);
      }
      if (all.p95Ms[all.fallback] < budget) expect(all.hedgeAtMs + all.p95Ms[all.fallback]).toBeLessThanOrEqual(budget);
    }
  });

  it('on a link too slow for the edge, a race that re-encodes answers when its re-encode and then the device run are done', () => {
    const state = createEstimatorState(P);
    // A 12 MP camera photo of a page (whose lines the device's small side still finds): its re-encode (decoding it
    // included) outlasts the hedge.
    const big = buildObservation({
      nowMs: NOW,
      request: { budgetMs: 600, width: 3000, height: 4000, bytes: 3_000_000 },
      ...linkSamples({ atMs: NOW, rttMs: 40, upKbps: 30, downKbps: 90 }),
    });
    const all = predictAll(big, P, state);
    const f = all.fallback;
    let seen = 0;
    for (let i = 0; i < all.plans.length; i++) {
      const p = all.plans[i];
      if (!p.race || p.upload?.kind !== 'reencode') continue;
      const plain = all.plans.findIndex((q) => q.id === p.id.replace('+race', ''));
      expect(all.deviceMs[plain]).toBeGreaterThan(all.hedgeAtMs);
      // The edge plan's device milliseconds are its re-encode (and the few of reading a page's reply).
      expect(Math.abs(all.expectedMs[i] - (all.deviceMs[plain] + all.expectedMs[f]))).toBeLessThan(0.01 * all.expectedMs[i]);
      seen++;
    }
    expect(seen).toBeGreaterThan(0);
  });

  it('a race whose edge cannot answer within the budget reads what its device run reads', () => {
    const state = createEstimatorState(P);
    // 3 Mbit/s: the edge answers first often enough, but not within 300 ms.
    const all = predictAll(obs(300, 3000), P, state);
    const f = all.fallback;
    const races = all.plans.filter((p) => p.race);
    expect(races.length).toBeGreaterThan(0);
    // Whichever branch comes first after the budget, the answer due by then is the device's.
    for (const p of races) expect(Math.abs(all.accuracy[p.index] - all.accuracy[f])).toBeLessThan(0.005);
  });

  it('split recognition runs its branches at once: expected is at least the slower branch and below their sum', () => {
    const state = createEstimatorState(P);
    const o = obs(3000, 100_000);
    const all = predictAll(o, P, state);
    const i = all.plans.findIndex((p) => p.id === 'split-rec:ppocr-det@fp32/960:edge50%');
    const stages = explainPlan(o, P, state, i);
    const sum = (b: string) => stages.filter((s) => s.branch === b).reduce((a, s) => a + s.expectedMs, 0);
    const prefix = sum('main');
    expect(all.expectedMs[i]).toBeGreaterThanOrEqual(prefix + Math.max(sum('device'), sum('edge')) - 1e-9);
    expect(all.expectedMs[i]).toBeLessThan(prefix + sum('device') + sum('edge'));
    // Both branches start when detection ends.
    const starts = stages.filter((s) => s.branch !== 'main' && s.branch !== 'fallback').map((s) => s.startMs);
    expect(Math.min(...starts)).toBeCloseTo(prefix, 6);
  });

  it('a decision carries its breakdown, and a race decision its start time and fallback', () => {
    const state = createEstimatorState(P);
    const d = decide(obs(2000), P, tandemPolicy(), state);
    expect(d.predicted.stages.length).toBeGreaterThan(3);
    expect(d.counts.plans).toBe(state.space.plans.length);
    const raced = predictAll(obs(1500, 3000), P, state);
    const r = raced.plans.findIndex((p) => p.race);
    expect(explainPlan(obs(1500, 3000), P, state, r).some((s) => s.branch === 'fallback')).toBe(true);
  });
});
