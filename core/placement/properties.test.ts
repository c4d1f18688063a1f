import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEstimatorState, decide, predictAll } from './index';
import { EXAMPLE_PROFILES as P } from './example-profiles';
import { buildObservation, type ObservationOverrides } from './observation-builder';
import type { Observation, ThroughputSample } from './observations';
import { alwaysDevicePolicy } from './policies/device';
import { alwaysEdgePolicy } from './policies/edge';
import { tandemPolicy } from './policies/tandem';
import { DEFAULT_OPTIONS } from './options';

const NOW = 100_000;

const situation = fc.record({
  width: fc.integer({ min: 160, max: 4000 }),
  height: fc.integer({ min: 160, max: 4000 }),
  bytesPerPixel: fc.double({ min: 0.05, max: 3, noNaN: true }),
  budgetMs: fc.integer({ min: 50, max: 8000 }),
  rttMs: fc.integer({ min: 2, max: 600 }),
  upKbps: fc.integer({ min: 50, max: 200_000 }),
  downRatio: fc.double({ min: 0.5, max: 10, noNaN: true }),
  /** Per-sample rate noise: the spread estimate has something to adapt to. */
  noise: fc.array(fc.double({ min: 0.5, max: 2, noNaN: true }), { minLength: 1, maxLength: 6 }),
  cold: fc.boolean(),
  costWeight: fc.double({ min: 0, max: 1, noNaN: true }),
  saveData: fc.boolean(),
  cellular: fc.boolean(),
  linesSeen: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 3 }),
});
type Situation = typeof situation extends fc.Arbitrary<infer T> ? T : never;

/** Link samples at `scale` × the situation's rates; sizes chosen so every sample is long enough to count. */
function samples(s: Situation, scale: number): Pick<Observation, 'rtt' | 'throughput'> {
  const throughput: ThroughputSample[] = [];
  const rtt = s.noise.map((_, k) => ({ atMs: NOW - 5000 + k * 400, rttMs: s.rttMs }));
  const fastest = s.upKbps * s.downRatio * 2 * 20;
  const bytes = Math.max(64_000, Math.ceil((fastest * Math.max(s.rttMs, 20)) / 8));
  s.noise.forEach((n, k) => {
    const at = NOW - 4900 + k * 400;
    const up = s.upKbps * n * scale;
    const down = s.upKbps * s.downRatio * n * scale;
    throughput.push({ atMs: at, direction: 'up', bytes, elapsedMs: s.rttMs + (bytes * 8) / up, serverMs: 0 });
    throughput.push({ atMs: at + 1, direction: 'down', bytes, elapsedMs: s.rttMs + (bytes * 8) / down, serverMs: 0 });
  });
  return { rtt, throughput };
}

function observation(s: Situation, scale: number): Observation {
  const o: ObservationOverrides = {
    nowMs: NOW,
    connection: s.cellular ? 'cellular' : 'wifi',
    request: { width: s.width, height: s.height, bytes: Math.max(1000, Math.round(s.width * s.height * s.bytesPerPixel)), budgetMs: s.budgetMs },
    preferences: { costWeight: s.costWeight, saveData: s.saveData },
    ...samples(s, scale),
  };
  if (s.cold) o.device = { models: [{ model: 'ppocr-det@fp32', state: 'cached' }] };
  return buildObservation(o);
}

function stateFor(s: Situation) {
  const state = createEstimatorState(P);
  for (const lines of s.linesSeen) state.lines.add(lines);
  return state;
}

describe('properties of the predictions', () => {
  it('more bandwidth never raises any plan’s predicted latency (expected or p95)', () => {
    fc.assert(
      fc.property(situation, fc.double({ min: 1, max: 20, noNaN: true }), (s, factor) => {
        const slow = predictAll(observation(s, 1), P, stateFor(s));
        const fast = predictAll(observation(s, factor), P, stateFor(s));
        for (let i = 0; i < slow.plans.length; i++) {
          // A faster downlink can make a more accurate fallback fit the budget (its models download sooner): a race
          // then starts that device run later, at its hedge time, and may expect to end a little later by design.
          if (slow.plans[i].race && slow.fallback !== fast.fallback) continue;
          // Relative 1e-5: a split plan's p95 combines its branches by Clark's max, and a race its two runs by a min,
          // moment-matched approximations that can move by parts in a million against their inputs (3720.6553264 →
          // 3720.6553301 ms, a race 3114.8055851 → 3114.8061149 ms for a 7 % faster link, and split-rec at 320 px
          // 3072.9585179 → 3072.9718649 ms for a 2.3× faster one).
          const tol = 1e-5 * Math.max(1, slow.p95Ms[i]);
          if (fast.expectedMs[i] > slow.expectedMs[i] + tol) throw new Error(`${slow.plans[i].id}: expected ${slow.expectedMs[i]} → ${fast.expectedMs[i]}`);
          if (fast.p95Ms[i] > slow.p95Ms[i] + tol) throw new Error(`${slow.plans[i].id}: p95 ${slow.p95Ms[i]} → ${fast.p95Ms[i]}`);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('p95 is never below the expected latency, and accuracy stays in 0..1', () => {
    fc.assert(
      fc.property(situation, (s) => {
        const p = predictAll(observation(s, 1), P, stateFor(s));
        for (let i = 0; i < p.plans.length; i++) {
          expect(p.p95Ms[i]).toBeGreaterThanOrEqual(p.expectedMs[i] - 1e-9);
          expect(p.accuracy[i]).toBeGreaterThanOrEqual(0);
          expect(p.accuracy[i]).toBeLessThanOrEqual(1);
          expect(Number.isFinite(p.expectedMs[i])).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('properties of the decision', () => {
  for (const make of [tandemPolicy, alwaysDevicePolicy, alwaysEdgePolicy]) {
    it(`${make().name}: when any allowed plan fits, the chosen one fits; offline and Save-Data are honoured`, () => {
      fc.assert(
        fc.property(situation, (s) => {
          const state = stateFor(s);
          const obs = observation(s, 1);
          const policy = make();
          const d = decide(obs, P, policy, state);
          // A plan that reads the photo well may be taken past its p95 over sure ones that read far less, but only
          // when its expected time fits.
          if (d.reason === 'likely-in-time-reads-more') expect(d.predicted.expectedMs).toBeLessThanOrEqual(obs.request.budgetMs);
          else if (d.counts.fitting > 0) {
            expect(d.fits).toBe(true);
            expect(d.predicted.p95Ms).toBeLessThanOrEqual(obs.request.budgetMs);
          }
          if (!obs.online) expect(d.plan.usesEdge).toBe(false);
          if (s.saveData) expect(d.plan.upload?.kind).not.toBe('original');
        }),
        { numRuns: 120 },
      );
    });
  }

  it('tandem is never less accurate than the device-only or edge-only choice when that one fits', () => {
    fc.assert(
      fc.property(situation, (s) => {
        const obs = observation(s, 1);
        const t = decide(obs, P, tandemPolicy(), stateFor(s));
        for (const other of [alwaysDevicePolicy(), alwaysEdgePolicy()]) {
          const o = decide(obs, P, other, stateFor(s));
          // Plans of another model variant set tie within a point (a quantized set reads as well for a person).
          const tie = t.plan.config.variant === o.plan.config.variant ? DEFAULT_OPTIONS.tieTolerance : DEFAULT_OPTIONS.variantTolerance;
          const margin = tie + s.costWeight * DEFAULT_OPTIONS.maxAccuracyTrade + 1e-9;
          if (o.fits && o.reason !== 'no-eligible-plan-device-fallback') expect(t.predicted.accuracy).toBeGreaterThanOrEqual(o.predicted.accuracy - margin);
        }
      }),
      { numRuns: 80 },
    );
  });
});
