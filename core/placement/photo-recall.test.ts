// Accuracy per photo: the profiles' word recall is a mean over their photo set, and what a small detector side loses
// depends on the photo. Recorded from the real-browser replay: receipts (40+ lines) read at 320–480 px on the
// phone gave word recall 0.00–0.11, and raced 640 px phone runs returned no line at all on large scene photos that
// read at 960.
import { describe, expect, it } from 'vitest';
import { createEstimatorState, decide, observe, predictAll } from './index';
import { EXAMPLE_PROFILES as P } from './example-profiles';
import { buildObservation, linkSamples } from './observation-builder';
import { alwaysDevicePolicy } from './policies/device';
import { tandemPolicy } from './policies/tandem';
import type { EstimatorState } from './estimators/state';

const receipt = { width: 1200, height: 1600, bytes: 420_000 };
const setRecall = (side: number) => P.accuracy.find((a) => a.det === 'ppocr-det@fp32' && a.maxSide === side)!.wordRecall;
const recallOf = (all: ReturnType<typeof predictAll>, id: string) => all.accuracy[all.plans.findIndex((p) => p.id === id)];

/** The planner has read two receipts of 43 lines before (what it knows of this kind of photo before running). */
function seenReceipts(state: EstimatorState): void {
  for (let k = 0; k < 2; k++) {
    const d = decide(buildObservation({ nowMs: k * 1000, request: { ...receipt, budgetMs: 10_000 } }), P, alwaysDevicePolicy(), state);
    observe(state, d, { atMs: k * 1000 + 900, ok: true, totalMs: 900, winner: 'device', lines: 43 });
  }
}

describe('accuracy per photo', () => {
  it('a receipt expected to hold 43 lines is read badly at small sides, well at the full side', () => {
    const state = createEstimatorState(P);
    seenReceipts(state);
    const all = predictAll(buildObservation({ nowMs: 5000, request: { ...receipt, budgetMs: 2000 } }), P, state);
    expect(recallOf(all, 'device:ppocr-det@fp32/960')).toBeCloseTo(setRecall(960), 6);
    expect(recallOf(all, 'device:ppocr-det@fp32/320')).toBeLessThan(0.2);
    expect(recallOf(all, 'device:ppocr-det@fp32/640')).toBeLessThan(setRecall(640) - 0.1);
  });

  it('a large scene photo loses more at 320 and 640 than the set-wide mean says', () => {
    const state = createEstimatorState(P);
    const all = predictAll(buildObservation({ request: { width: 2560, height: 1920, bytes: 900_000, budgetMs: 2000 } }), P, state);
    expect(recallOf(all, 'device:ppocr-det@fp32/640')).toBeLessThan(setRecall(640));
    expect(recallOf(all, 'device:ppocr-det@fp32/320')).toBeLessThan(0.3);
    // A photo no larger than the side loses nothing by it.
    const small = predictAll(buildObservation({ request: { width: 600, height: 400, bytes: 60_000, budgetMs: 2000 } }), P, state);
    expect(recallOf(small, 'device:ppocr-det@fp32/640')).toBeCloseTo(setRecall(640), 6);
  });

  it('a plan reading far less of this photo is taken only when nothing better can arrive in time, and the decision says so', () => {
    const state = createEstimatorState(P);
    seenReceipts(state);
    // Offline, on a budget only the smallest side meets (its p95 plus a little).
    const offline = { nowMs: 5000, online: false, connection: 'none' as const };
    const all = predictAll(buildObservation({ ...offline, request: { ...receipt, budgetMs: 2000 } }), P, state);
    const small = all.plans.findIndex((p) => p.id === 'device:ppocr-det@fp32/320');
    const budgetMs = Math.ceil(all.p95Ms[small] + 5);
    const tight = decide(buildObservation({ ...offline, request: { ...receipt, budgetMs } }), P, tandemPolicy(), state);
    expect(tight.plan.config.maxSide).toBe(320);
    expect(tight.reason).toBe('only-low-recall-in-time');
    // With the edge reachable over a good link, the receipt is read at full side.
    const link = linkSamples({ atMs: 5000, rttMs: 10, upKbps: 20_000, downKbps: 50_000 });
    const d = decide(buildObservation({ nowMs: 5000, request: { ...receipt, budgetMs: 2000 }, ...link }), P, tandemPolicy(), state);
    expect(d.plan.config.maxSide).toBe(960);
  });
});
