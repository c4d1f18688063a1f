import { describe, expect, it } from 'vitest';
import { createEstimatorState, decide, observe, predictAll, type EstimatorState, type Observation, type Policy } from './index';
import { CHANCE_WEIGHT, chanceToMeet, FAR_BELOW } from './policies/policy';
import { EXAMPLE_PROFILES as P } from './example-profiles';
import { buildObservation, linkSamples, type ObservationOverrides } from './observation-builder';
import { alwaysDevicePolicy } from './policies/device';
import { alwaysEdgePolicy } from './policies/edge';
import { layerCakePolicy } from './policies/layercake';
import { pieSlicerPolicy } from './policies/pieslicer';
import { tandemPolicy } from './policies/tandem';

const NOW = 60_000;
const fastLink = linkSamples({ atMs: NOW, rttMs: 20, upKbps: 50_000, downKbps: 100_000 });

/** Teaches the state that the device runs `factor` times slower than its profile (as a 4x CPU throttle does). */
function slowDevice(state: EstimatorState, factor: number, runs = 4): void {
  const policy = alwaysDevicePolicy();
  for (let k = 0; k < runs; k++) {
    const obs = buildObservation({ nowMs: 1000 * k, request: { budgetMs: 10_000 } });
    const d = decide(obs, P, policy, state);
    const dm = state.deviceModelsByKey(d.inputs.deviceRuntime)!;
    const det = dm.det[state.modelIndex.get(d.plan.config.det)!]!;
    const rec = dm.rec[state.modelIndex.get(d.plan.config.rec)!]!;
    const lines = 8;
    const device = {
      decode: factor * dm.decode!.seedAt(d.inputs.imagePixels),
      'det-preprocess': factor * dm.detPreprocess!.seedAt(d.inputs.detPixels),
      det: factor * det.seedAt(d.inputs.detPixels),
      postprocess: factor * dm.postprocess!.seedAt(d.inputs.detPixels),
      rec: factor * rec.seedAt(lines),
    };
    const total = Object.values(device).reduce((a, b) => a + b, 0);
    observe(state, d, { atMs: 1000 * k + total, ok: true, totalMs: total, lines, device }, policy);
  }
}

interface Row {
  name: string;
  obs: ObservationOverrides;
  prepare?: (s: EstimatorState) => void;
  expect: (d: ReturnType<typeof decide>) => void;
}

const rows: Row[] = [
  {
    name: 'offline → device only',
    obs: { online: false, connection: 'none', ...fastLink },
    expect: (d) => {
      expect(d.plan.kind).toBe('device');
      expect(d.plan.usesEdge).toBe(false);
      expect(d.constraints).toContain('offline');
    },
  },
  {
    name: '300 kbit/s uplink, 1 s budget → device',
    obs: { request: { budgetMs: 1000 }, ...linkSamples({ atMs: NOW, rttMs: 80, upKbps: 300, downKbps: 1000 }) },
    expect: (d) => {
      expect(d.plan.usesEdge).toBe(false);
      expect(d.fits).toBe(true);
    },
  },
  {
    name: 'fast uplink, 4x slower device, tight budget → detection on the edge',
    obs: { request: { budgetMs: 700 }, ...fastLink },
    prepare: (s) => slowDevice(s, 4),
    expect: (d) => {
      expect(d.plan.detectOn).toBe('edge');
      expect(d.fits).toBe(true);
    },
  },
  {
    name: 'Save-Data → never the original-size image',
    obs: { request: { budgetMs: 700 }, preferences: { saveData: true }, ...fastLink },
    prepare: (s) => slowDevice(s, 4),
    expect: (d) => {
      expect(d.plan.upload?.kind).not.toBe('original');
      expect(d.constraints).toContain('save-data');
    },
  },
  {
    name: 'NetInfo Save-Data counts too',
    obs: { request: { budgetMs: 700 }, netInfo: { saveData: true }, ...fastLink },
    prepare: (s) => slowDevice(s, 4),
    expect: (d) => expect(d.plan.upload?.kind).not.toBe('original'),
  },
  {
    name: 'cellular with offload over cellular off → device',
    obs: { request: { budgetMs: 700 }, connection: 'cellular', preferences: { offloadOnCellular: false }, ...fastLink },
    prepare: (s) => slowDevice(s, 4),
    expect: (d) => {
      expect(d.plan.usesEdge).toBe(false);
      expect(d.constraints).toContain('no-cellular-offload');
    },
  },
  {
    name: 'edge models not loaded (status) → device',
    obs: {
      request: { budgetMs: 700 },
      edge: {
        statusAtMs: NOW - 500,
        status: {
          serverTime: 0,
          uptimeMs: 100,
          models: [{ name: 'ppocr-det', version: '1', variant: 'fp32', state: 'loading', inFlight: 0, queued: 0, latency: [] }],
          pool: { workers: 2, intraOpThreads: 1, busy: 0, queued: 0 },
        },
      },
      ...fastLink,
    },
    prepare: (s) => slowDevice(s, 4),
    expect: (d) => {
      expect(d.plan.usesEdge).toBe(false);
      expect(d.constraints).toContain('edge-not-ready');
    },
  },
  {
    name: 'nothing can fit → the least late plan that reads the photo, flagged',
    obs: { request: { budgetMs: 50 }, ...fastLink },
    expect: (d) => {
      expect(d.reason).toBe('nothing-fits-least-late');
      expect(d.fits).toBe(false);
    },
  },
];

describe('decide (tandem): nothing fits', () => {
  it('takes the plan expected to read the most in budget (chance^w × recall), not merely the lowest p95', () => {
    // A receipt (tens of lines expected from its shape) with 1.2 s, on a link not yet measured.
    const obs = () =>
      buildObservation({ nowMs: NOW, request: { budgetMs: 1200, width: 700, height: 1600, bytes: 330_000 }, rtt: [{ atMs: NOW - 1000, rttMs: 40 }] });
    const d = decide(obs(), P, tandemPolicy(), createEstimatorState(P));
    expect(['nothing-fits-most-likely', 'only-low-recall-in-time']).toContain(d.reason);
    expect(d.fits).toBe(false);
    const all = predictAll(obs(), P, createEstimatorState(P));
    const score = (i: number) => chanceToMeet(all.expectedMs[i], all.p95Ms[i], 1200) ** CHANCE_WEIGHT * all.accuracy[i];
    let lowestP95 = 0;
    for (let i = 0; i < all.plans.length; i++) {
      expect(score(d.plan.index)).toBeGreaterThanOrEqual(0.98 * score(i) - 1e-9);
      if (all.p95Ms[i] < all.p95Ms[lowestP95]) lowestP95 = i;
    }
    expect(score(d.plan.index)).toBeGreaterThan(score(lowestP95));
  });

  it('when every chance is negligible, reads the most by a little past the fastest plan, not the smallest side', () => {
    const obs = () => buildObservation({ nowMs: NOW, request: { budgetMs: 20, width: 700, height: 1600, bytes: 330_000 }, ...fastLink });
    const d = decide(obs(), P, tandemPolicy(), createEstimatorState(P));
    expect(d.reason).toBe('nothing-fits-least-late');
    const all = predictAll(obs(), P, createEstimatorState(P));
    const fastest = Math.min(...all.expectedMs);
    let lowestP95 = 0;
    for (let i = 1; i < all.plans.length; i++) if (all.p95Ms[i] < all.p95Ms[lowestP95]) lowestP95 = i;
    expect(d.predicted.expectedMs).toBeLessThan(1.5 * fastest);
    expect(all.accuracy[d.plan.index]).toBeGreaterThan(all.accuracy[lowestP95]);
  });
});

describe('decide (tandem): table of situations', () => {
  for (const row of rows) {
    it(row.name, () => {
      const state = createEstimatorState(P);
      row.prepare?.(state);
      const d = decide(buildObservation({ nowMs: NOW, ...row.obs }), P, tandemPolicy(), state);
      row.expect(d);
      expect(d.predicted.stages.length).toBeGreaterThan(0);
      expect(d.reason).toBeTypeOf('string');
    });
  }
});

describe('decide: every policy honours the hard constraints', () => {
  const policies: (() => Policy)[] = [tandemPolicy, alwaysDevicePolicy, alwaysEdgePolicy, layerCakePolicy, pieSlicerPolicy];
  for (const make of policies) {
    it(`${make().name}: offline → no edge; Save-Data → no original upload; no cellular offload → no edge`, () => {
      const cases: [ObservationOverrides, (d: ReturnType<typeof decide>) => void][] = [
        [{ online: false, connection: 'none' }, (d) => expect(d.plan.usesEdge).toBe(false)],
        [{ preferences: { saveData: true } }, (d) => expect(d.plan.upload?.kind).not.toBe('original')],
        [{ connection: 'cellular', preferences: { offloadOnCellular: false } }, (d) => expect(d.plan.usesEdge).toBe(false)],
      ];
      for (const budgetMs of [300, 800, 3000]) {
        for (const [o, check] of cases) {
          const state = createEstimatorState(P);
          slowDevice(state, 4);
          check(decide(buildObservation({ nowMs: NOW, ...fastLink, ...o, request: { budgetMs } }), P, make(), state));
        }
      }
    });
  }
});

describe('edge refusal', () => {
  it('a 503 sends the retry to the device, expected within the remaining budget', () => {
    const state = createEstimatorState(P);
    slowDevice(state, 2.5);
    const policy = tandemPolicy();
    // A phone 2.5 times slower than the profile: at 1.5 s only a smaller detector input fits on it, the edge fits the best.
    const budget = 1500;
    const first = decide(buildObservation({ nowMs: NOW, request: { budgetMs: budget }, ...fastLink }), P, policy, state);
    expect(first.plan.usesEdge).toBe(true);
    expect(first.fallback).not.toBeNull();
    expect(first.fallback!.p95Ms).toBeLessThanOrEqual(budget);

    const refusedAfter = 60;
    observe(state, first, { atMs: NOW + refusedAfter, ok: false, failure: 'refused', totalMs: refusedAfter }, policy);
    const retry = decide(buildObservation({ nowMs: NOW + refusedAfter, request: { budgetMs: budget - refusedAfter }, ...fastLink }), P, policy, state);
    expect(retry.plan.usesEdge).toBe(false);
    expect(retry.constraints).toContain('edge-refused');
    expect(retry.predicted.expectedMs).toBeLessThanOrEqual(budget - refusedAfter);
    if (retry.reason === 'likely-in-time-reads-more') {
      // The fallback planned before the refusal, its p95 now a few ms past the budget left: still taken over the
      // smaller sides that fit for sure and read far less.
      expect(retry.plan.id).toBe(first.fallback!.plan.id);
    } else {
      expect(retry.fits).toBe(true);
      expect(retry.predicted.p95Ms).toBeLessThanOrEqual(budget - refusedAfter);
    }

    // After the cool-down the edge is considered again.
    const later = decide(buildObservation({ nowMs: NOW + 20_000, request: { budgetMs: budget }, ...fastLink }), P, policy, state);
    expect(later.constraints).not.toContain('edge-refused');
  });

  it('an adapter-reported refusal (refusedAtMs) also blocks the edge', () => {
    const state = createEstimatorState(P);
    slowDevice(state, 4);
    const d = decide(buildObservation({ nowMs: NOW, request: { budgetMs: 1500 }, edge: { refusedAtMs: NOW - 1000 }, ...fastLink }), P, tandemPolicy(), state);
    expect(d.plan.usesEdge).toBe(false);
  });
});

describe('decide: inputs', () => {
  it('rejects a request without a budget, naming the field', () => {
    const state = createEstimatorState(P);
    const obs: Observation = buildObservation({ request: { budgetMs: 0 } });
    expect(() => decide(obs, P, tandemPolicy(), state)).toThrowError(/budgetMs/);
    try {
      decide(obs, P, tandemPolicy(), state);
    } catch (e) {
      expect((e as Error).name).toBe('PlacementBadObservation');
    }
  });

  it('rejects a state made for other profiles', () => {
    const state = createEstimatorState({ ...P });
    expect(() => decide(buildObservation(), P, tandemPolicy(), state)).toThrowError(expect.objectContaining({ name: 'PlacementProfilesMismatch' }));
  });

  it('a change of network drops what was learnt about the old link', () => {
    const state = createEstimatorState(P);
    const policy = tandemPolicy();
    const onWifi = decide(buildObservation({ nowMs: NOW, networkId: 'wifi-home', ...fastLink }), P, policy, state);
    expect(onWifi.inputs.bandwidthSource).toBe('samples');
    const moved = decide(
      buildObservation({ nowMs: NOW + 1000, networkId: 'cellular-4g', connection: 'cellular', netInfo: { effectiveType: '3g' } }),
      P,
      policy,
      state,
    );
    expect(moved.inputs.bandwidthSource).toBe('netinfo');
    expect(moved.inputs.upKbps).toBeLessThan(1000);
  });

  it('work already running on the device delays device plans by its remaining time', () => {
    const idle = decide(buildObservation({ nowMs: NOW, ...fastLink }), P, alwaysDevicePolicy(), createEstimatorState(P));
    const busy = decide(buildObservation({ nowMs: NOW, ...fastLink, device: { busyMs: 400 } }), P, alwaysDevicePolicy(), createEstimatorState(P));
    expect(busy.plan.id).toBe(idle.plan.id);
    expect(busy.predicted.expectedMs).toBeCloseTo(idle.predicted.expectedMs + 400, 6);
  });

  it('counts cellular bytes only on a cellular connection', () => {
    const obs = (connection: 'cellular' | 'wifi') => buildObservation({ nowMs: NOW, connection, ...fastLink, request: { budgetMs: 3000 } });
    const cell = decide(obs('cellular'), P, alwaysEdgePolicy(), createEstimatorState(P));
    const wifi = decide(obs('wifi'), P, alwaysEdgePolicy(), createEstimatorState(P));
    expect(cell.predicted.cellularBytes).toBeGreaterThanOrEqual(250_000);
    expect(cell.predicted.cellularBytes).toBe(cell.predicted.transferBytes);
    expect(wifi.predicted.cellularBytes).toBe(0);
    expect(wifi.predicted.transferBytes).toBe(cell.predicted.transferBytes);
  });

  it('cold models on the device cost their download and session creation', () => {
    const warm = decide(buildObservation({ nowMs: NOW, ...fastLink }), P, alwaysDevicePolicy(), createEstimatorState(P));
    const absent = decide(buildObservation({ nowMs: NOW, ...fastLink, device: { models: [] } }), P, alwaysDevicePolicy(), createEstimatorState(P));
    expect(absent.predicted.expectedMs).toBeGreaterThan(warm.predicted.expectedMs + 1000);
    expect(absent.predicted.stages.map((s) => s.stage)).toEqual(expect.arrayContaining(['model-load', 'model-download']));
  });
});
