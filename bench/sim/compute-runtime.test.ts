import { describe, expect, it } from 'vitest';
import { EXAMPLE_PROFILES as P } from '../../core/placement';
import type { Profiles, RuntimeProfile } from '../../core/profiles';
import { ComputeSampler, pickRuntime } from './compute';
import { uplinkProbe } from './simulate';
import { type LinkTrace, RateSeries } from './traces';

const device = P.runtimes.find((r) => r.location === 'device')!;
const edge = P.runtimes.find((r) => r.location === 'edge')!;
/** A device measured unthrottled and at 4× (twice as slow here), two edge runtimes of which one is not ort-node. */
function throttled(defaults: Partial<Profiles['defaults']> = {}): Profiles {
  const slower = (r: RuntimeProfile, k: number): RuntimeProfile => ({
    ...r,
    stages: r.stages.map((s) => ({ ...s, points: s.points.map((p) => ({ x: p.x, stats: { ...p.stats, p50: p.stats.p50 * k, p90: p.stats.p90 * k } })) })),
  });
  return {
    ...P,
    runtimes: [
      { ...device, id: 'device-wasm-2t-cpu1x', cpuThrottle: 1 },
      { ...slower(device, 2), id: 'device-wasm-2t-cpu4x', cpuThrottle: 4 },
      { ...edge, id: 'edge-other-1t', backend: 'other' },
      { ...slower(edge, 3), id: 'edge-ort-node-1t', threads: 1 },
    ],
    defaults: { ...P.defaults, ...defaults },
  };
}

describe('which runtimes the simulator draws compute from', () => {
  it('the profiles’ defaults when they name them', () => {
    const p = throttled({ deviceRuntime: 'device-wasm-2t-cpu1x', edgeRuntime: 'edge-other-1t' });
    expect(pickRuntime(p, 'device').id).toBe('device-wasm-2t-cpu1x');
    expect(pickRuntime(p, 'edge').id).toBe('edge-other-1t');
  });

  it('otherwise the 4× throttled device and the onnxruntime-node edge, and draws from them', () => {
    const p = throttled();
    const s = new ComputeSampler(p);
    expect(s.deviceRuntime).toMatchObject({ id: 'device-wasm-2t-cpu4x', cpuThrottle: 4 });
    expect(s.edgeRuntime.id).toBe('edge-ort-node-1t');
    const base = new ComputeSampler(P);
    expect(s.median('device', 'det', 'ppocr-det@fp32', 640 * 640)).toBeCloseTo(2 * base.median('device', 'det', 'ppocr-det@fp32', 640 * 640), 6);
    expect(s.median('edge', 'rec', 'ppocr-rec@fp32', 4)).toBeCloseTo(3 * base.median('edge', 'rec', 'ppocr-rec@fp32', 4), 6);
  });

  it('an explicit choice wins; an unknown one is a clear error', () => {
    const p = throttled({ deviceRuntime: 'device-wasm-2t-cpu4x' });
    expect(new ComputeSampler(p, { device: 'device-wasm-2t-cpu1x' }).deviceRuntime.id).toBe('device-wasm-2t-cpu1x');
    expect(() => new ComputeSampler(p, { edge: 'edge-gpu' })).toThrow(/no edge runtime "edge-gpu".*edge-other-1t, edge-ort-node-1t/);
  });
});

describe('the page’s uplink probe on joining a link', () => {
  const flat = (kbps: number) => new RateSeries([0, 1000, 2000], [kbps, kbps, kbps]);
  const link = (upKbps: number): LinkTrace => ({
    name: 'x',
    files: [],
    linkType: 'lte',
    linkSource: 'file-name',
    up: flat(upKbps),
    down: flat(10_000),
    upFrom: 'up',
    upDerived: false,
    downFrom: 'down',
    rttAt: new Float64Array(0),
    rttMs: new Float64Array(0),
    durationMs: 3000,
  });

  it('is one upload sample whose time is the transfer plus a round trip and the server’s millisecond', () => {
    const s = uplinkProbe(link(300), 48 * 1024)!;
    expect(s.direction).toBe('up');
    expect(s.bytes).toBe(48 * 1024);
    expect(s.elapsedMs).toBeCloseTo(60 + (48 * 1024 * 8) / 300 + 1, 3);
    expect(s.atMs).toBe(s.elapsedMs);
  });

  it('is absent when switched off', () => {
    expect(uplinkProbe(link(300), 0)).toBeNull();
  });
});

describe('raw runs in the profile', () => {
  const withRuns = (): Profiles => {
    const runs = (p50: number, extra: number[]) => ({ n: 5, p50, p90: Math.max(p50, ...extra), samples: [p50 * 0.9, p50, p50, p50 * 1.1, ...extra] });
    return {
      ...P,
      runtimes: P.runtimes.map((r) =>
        r.location !== 'device'
          ? r
          : {
              ...r,
              stages: [
                ...r.stages.filter((s) => s.stage !== 'postprocess'),
                // One stray run (a first run) at the smallest size only.
                {
                  stage: 'postprocess' as const,
                  unit: 'det-pixels' as const,
                  points: [
                    { x: 100_000, stats: runs(3, [90]) },
                    { x: 500_000, stats: runs(15, [16]) },
                  ],
                },
              ],
            },
      ),
    };
  };

  it('are resampled at the profiled size closest to the request, not pooled across sizes', () => {
    const s = new ComputeSampler(withRuns());
    // The slowest draw near the large size stays near its own runs; near the small size it is the stray run.
    expect(s.draw('device', 'postprocess', undefined, 500_000, 3)).toBeCloseTo(16.5, 6);
    expect(s.draw('device', 'postprocess', undefined, 100_000, 3)).toBeCloseTo(90, 6);
    expect(s.draw('device', 'postprocess', undefined, 500_000, 0)).toBeCloseTo(15, 6);
  });
});
