import { describe, expect, it } from 'vitest';
import { EXAMPLE_PROFILES as P } from '../../core/placement';
import type { SimImage } from './images';
import { simulateRequests } from './simulate-given';
import { RateSeries, type LinkTrace } from './traces';

function link(name: string, upKbps: number): LinkTrace {
  const flat = (kbps: number) => new RateSeries([0, 30_000], [kbps, kbps]);
  return {
    name,
    files: [],
    linkType: 'lte',
    linkSource: 'file-name',
    up: flat(upKbps),
    down: flat(4 * upKbps),
    upFrom: 'up',
    upDerived: false,
    downFrom: 'down',
    rttAt: new Float64Array(0),
    rttMs: new Float64Array(0),
    durationMs: 60_000,
  };
}

const receipt: SimImage = { file: 'r.jpg', width: 1200, height: 1600, bytes: 300_000, lines: 30 };
const street: SimImage = { file: 's.jpg', width: 1280, height: 720, bytes: 150_000, lines: 4 };
// Given out of arrival order, as a caller may hold them.
const requests = [
  { arrivalMs: 9000, image: street, budgetMs: 4000 },
  { arrivalMs: 1000, image: receipt, budgetMs: 2000 },
  { arrivalMs: 1500, image: street, budgetMs: 1000 },
  { arrivalMs: 20_000, image: receipt, budgetMs: 8000 },
];

describe('simulateRequests', () => {
  it('answers each given request in the order given, deterministically per seed', () => {
    const a = simulateRequests({ profiles: P, trace: link('lte', 2000), requests, policy: 'tandem', seed: 5 });
    const b = simulateRequests({ profiles: P, trace: link('lte', 2000), requests, policy: 'tandem', seed: 5 });
    expect(a).toEqual(b);
    expect(a).toHaveLength(requests.length);
    a.forEach((r, i) => {
      expect(r.met).toBe(r.totalMs <= requests[i].budgetMs);
      expect(r.predictedP95Ms).toBeGreaterThanOrEqual(r.predictedP50Ms);
      expect(r.accuracy).toBeGreaterThan(0);
    });
    const c = simulateRequests({ profiles: P, trace: link('lte', 2000), requests, policy: 'tandem', seed: 6 });
    expect(c.map((r) => r.totalMs)).not.toEqual(a.map((r) => r.totalMs));
  });

  it('follows the link: always-edge is slower over a slow uplink, and the oracle scores no prediction', () => {
    const fast = simulateRequests({ profiles: P, trace: link('x', 20_000), requests, policy: 'edge', seed: 1 });
    const slow = simulateRequests({ profiles: P, trace: link('x', 200), requests, policy: 'edge', seed: 1 });
    fast.forEach((r, i) => expect(slow[i].totalMs).toBeGreaterThan(r.totalMs));
    expect(fast.every((r) => r.planId.startsWith('edge:') && r.edgeMs > 0)).toBe(true);
    const oracle = simulateRequests({ profiles: P, trace: link('x', 200), requests, policy: 'oracle', seed: 1 });
    expect(oracle.every((r) => Number.isNaN(r.predictedP50Ms))).toBe(true);
  });
});
