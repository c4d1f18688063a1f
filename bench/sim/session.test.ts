import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_PROFILES as P } from '../../core/placement';
import { loadImages } from './images';
import { type EngineCall, simulate, SIM_POLICIES } from './simulate';
import { sizeOnlySet } from './size-only-set';
import { loadTraces } from './traces';

/** Two image sizes, written as an OCR set of sizes only. */
function imagesDir(): string {
  return sizeOnlySet('sim-causal-images-', [
    { image: 'images/a.jpg', width: 1280, height: 720, bytes: 180_000, lines: 6 },
    { image: 'images/b.jpg', width: 3000, height: 4000, bytes: 2_400_000, lines: 60 },
  ]);
}

/** A slow uplink that speeds up and slows down: requests take seconds and overlap at two arrivals a second. */
function tracesDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sim-causal-traces-'));
  const rows = (f: (i: number) => number) => 't_ms,kbps\n' + Array.from({ length: 40 }, (_, i) => `${i * 1000},${f(i)}`).join('\n') + '\n';
  writeFileSync(
    join(dir, 'busy__lte__up.csv'),
    rows((i) => (i % 10 < 5 ? 400 : 4000)),
  );
  writeFileSync(
    join(dir, 'busy__lte__down.csv'),
    rows(() => 8000),
  );
  return dir;
}

/** Decisions that were told of an outcome completing after them: (decision time, latest completion observed). */
function violations(calls: readonly EngineCall[]): [number, number][] {
  const latest = new Map<string, number>();
  const out: [number, number][] = [];
  for (const c of calls) {
    const seen = latest.get(c.session) ?? -Infinity;
    if (c.call === 'observe') latest.set(c.session, Math.max(seen, c.atMs));
    else if (seen > c.atMs) out.push([c.atMs, seen]);
  }
  return out;
}

describe('causal replay', () => {
  const calls: EngineCall[] = [];
  const images = loadImages(imagesDir());
  const traces = loadTraces(tracesDir(), { upFromDown: 0.5 });
  const result = simulate(P, traces, images, {
    budgets: [1000, 3000],
    ratePerS: 2,
    maxRequestsPerTrace: 30,
    seed: 3,
    probeEveryMs: 7000,
    uplinkProbeBytes: 48 * 1024,
    costWeight: 0,
    onEngineCall: (c) => calls.push(c),
  });

  it('decides each request knowing only outcomes that completed before it', () => {
    expect(calls.filter((c) => c.call === 'decide').length).toBeGreaterThanOrEqual(SIM_POLICIES.length * 2 * result.requests);
    expect(violations(calls)).toEqual([]);
  });

  it('observes every request once, at its completion', () => {
    const observed = calls.filter((c) => c.call === 'observe');
    expect(observed.length).toBe(SIM_POLICIES.length * 2 * result.requests);
    const tandem = result.records.get('tandem')!.get(1000)!;
    const ofTandem = observed.filter((c) => c.session.endsWith('|1000|tandem'));
    for (const c of ofTandem) expect(c.atMs).toBeCloseTo(tandem[c.request].arrivalMs + tandem[c.request].totalMs, 6);
  });

  it('has overlapping requests, where observing at once (the old replay order) would tell a decision its future', () => {
    for (const [budget, policy] of [
      [1000, 'tandem'],
      [3000, 'edge'],
    ] as const) {
      const rs = result.records.get(policy)!.get(budget)!;
      // The old order: decide request k, run it, observe it, then decide request k + 1.
      const immediate: EngineCall[] = rs.flatMap((r, k) => [
        { session: 's', call: 'decide' as const, atMs: r.arrivalMs, request: k },
        { session: 's', call: 'observe' as const, atMs: r.arrivalMs + r.totalMs, request: k },
      ]);
      expect(violations(immediate).length).toBeGreaterThan(0);
      // In the causal replay, those outcomes reached observe() after the next decision.
      const session = calls.filter((c) => c.session === `busy__lte|${budget}|${policy}`);
      const overlapping = rs.findIndex((r, k) => k + 1 < rs.length && r.arrivalMs + r.totalMs > rs[k + 1].arrivalMs);
      const observedAt = session.findIndex((c) => c.call === 'observe' && c.request === overlapping);
      const nextDecidedAt = session.findIndex((c) => c.call === 'decide' && c.request === overlapping + 1);
      expect(nextDecidedAt).toBeLessThan(observedAt);
    }
  });
});
