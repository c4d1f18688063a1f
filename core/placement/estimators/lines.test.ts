import { describe, expect, it } from 'vitest';
import { createEstimatorState, decide, observe, tandemPolicy } from '../index';
import { EXAMPLE_PROFILES as P } from '../example-profiles';
import { buildObservation } from '../observation-builder';
import { type LinesEstimate, LINE_WIDTH_BY_SHAPE, LINES_BY_SHAPE, LinesModel } from './lines';

const est = (): LinesEstimate => ({ mean: 0, sd: 0, evidence: 0 });
/** Landscape street photos with a few words, portrait receipts with many lines (the two kinds of the dev set). */
const scene = (k: number) => [1280, 720, 80_000 + 3_000 * k] as const;
const receipt = (k: number) => [620 + 10 * k, 1300 + 40 * k, 300_000 + 5_000 * k] as const;

describe('lines per image from the image alone', () => {
  it('stays on the profile figure until similar images were seen', () => {
    const m = new LinesModel({ mean: 8, sd: 6 });
    expect(m.predict(1280, 720, 90_000, est())).toMatchObject({ mean: 8, sd: 6, evidence: 0 });
    for (let k = 0; k < 6; k++) m.add(...scene(k), 4);
    // A receipt looks nothing like the street photos: still the prior.
    const r = m.predict(...receipt(0), est());
    expect(r.evidence).toBeLessThan(0.05);
    expect(r.mean).toBeGreaterThan(7);
  });

  it('before any photo was read, expects a receipt-shaped photo to hold tens of lines and a street photo a few', () => {
    const m = new LinesModel({ mean: 15, sd: 23 }, undefined, undefined, LINES_BY_SHAPE);
    const r = m.predict(...receipt(0), est());
    const s = m.predict(...scene(0), est());
    expect(r.mean).toBeGreaterThan(40);
    expect(s.mean).toBeLessThan(5);
    // A near-square photo says nothing by its shape: the profile's figure.
    expect(m.predict(1000, 950, 200_000, est()).mean).toBe(15);
    // What is read outranks the shape: street photos holding a dozen lines each.
    for (let k = 0; k < 6; k++) m.add(...scene(k), 12);
    expect(m.predict(...scene(2), est()).mean).toBeGreaterThan(10);
  });

  it('before any receipt was read, expects a short receipt (few bytes) to hold fewer lines than a long one, with the law’s spread', () => {
    const m = new LinesModel({ mean: 15, sd: 23 }, undefined, undefined, LINES_BY_SHAPE);
    // Receipts 030 and 009 of the development set: 38 lines at 137 KB, 43 at 345 KB; the shape's one mean said 56.5 for both.
    const short = m.predict(1080, 1527, 136_662, est());
    const long = m.predict(604, 1716, 345_189, est());
    expect(Math.abs(short.mean - 38) / 38).toBeLessThan(0.1);
    expect(long.mean).toBeGreaterThan(short.mean * 1.4);
    expect(short.sd / short.mean).toBeCloseTo(LINES_BY_SHAPE.portrait.relSd, 6);
    // Past the photos it was fitted on the law is held at its ends; a lossless image's bytes say nothing (a PNG of a
    // 32-line receipt is 1.2 MB): the law's centre.
    expect(m.predict(1080, 1527, 5 * 345_189, est()).mean).toBeCloseTo(m.predict(1080, 1527, LINES_BY_SHAPE.portrait.maxBytes, est()).mean, 9);
    const png = m.predict(720, 1400, 1_231_434, est(), false);
    expect(png.mean).toBeCloseTo(LINES_BY_SHAPE.portrait.lines, 6);
    const req = { width: 720, height: 1400, bytes: 1_231_434, budgetMs: 4000 };
    expect(m.predictFor({ ...req, mime: 'image/png' }, est()).mean).toBeCloseTo(png.mean, 9);
    expect(m.predictFor({ ...req, mime: 'image/jpeg' }, est()).mean).toBeGreaterThan(png.mean + 5);
    // A street scene's bytes say nothing of its lines: its shape's mean and the profile's spread, whatever its size.
    const small = m.predict(1280, 720, 50_000, est());
    expect(small.mean).toBeCloseTo(LINES_BY_SHAPE.landscape.lines, 9);
    expect(small.sd).toBeCloseTo(23, 9);
    expect(m.predict(1280, 720, 200_000, est()).mean).toBeCloseTo(small.mean, 9);
  });

  it('before any receipt was read, expects its lines as wide as receipts run, and learns this one’s from what is read', () => {
    const profiled = 160;
    const byShape = { portrait: LINE_WIDTH_BY_SHAPE.portrait / profiled, landscape: LINE_WIDTH_BY_SHAPE.landscape / profiled };
    const m = new LinesModel({ mean: 15, sd: 23 }, undefined, undefined, LINES_BY_SHAPE, byShape);
    // Receipt lines run wider than the profiled 160 px; a shape without a prior stays on the profiled width.
    expect(byShape.portrait).toBeGreaterThan(1.5);
    expect(m.predict(...receipt(0), est()).widthFactor).toBeCloseTo(byShape.portrait, 6);
    expect(m.predict(...scene(0), est()).widthFactor).toBe(byShape.landscape > 0 ? byShape.landscape : 1);
    expect(m.predict(1000, 950, 200_000, est()).widthFactor).toBe(1);
    // Without shape priors, the profiled lines' width.
    expect(new LinesModel({ mean: 15, sd: 23 }).predict(...receipt(0), est()).widthFactor).toBe(1);
    // Measured receipts outrank the prior.
    for (let k = 0; k < 4; k++) m.add(...receipt(k), 50, 1.5);
    expect(m.predict(...receipt(1), est()).widthFactor).toBeLessThan(1.6);
  });

  it('tells receipts from street photos: bimodal counts, one prediction per kind', () => {
    const m = new LinesModel({ mean: 8, sd: 6 });
    for (let k = 0; k < 8; k++) {
      m.add(...scene(k), 2 + (k % 5));
      m.add(...receipt(k), 50 + 3 * k);
    }
    const s = m.predict(...scene(3), est());
    const r = m.predict(...receipt(3), est());
    expect(s.mean).toBeGreaterThan(2);
    expect(s.mean).toBeLessThan(6);
    expect(r.mean).toBeGreaterThan(45);
    expect(r.mean).toBeLessThan(70);
    // A single running mean would say about 30 for both.
    expect(s.sd).toBeLessThan(4);
  });

  it('reads a skewed spread: a few words in most photos, a dozen in some, gives a wide upper tail', () => {
    const counts = [1, 2, 2, 3, 5, 9];
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    const plainSd = Math.sqrt(counts.reduce((a, b) => a + (b - mean) ** 2, 0) / counts.length);
    // A prior that adds no spread of its own, so only the neighbours' shape shows.
    const m = new LinesModel({ mean, sd: 0 });
    for (const c of counts) m.add(...scene(0), c);
    const e = m.predict(...scene(0), est());
    expect(e.mean).toBeGreaterThan(3);
    expect(e.mean).toBeLessThan(6);
    // Wider at the top than a normal spread of the same counts would say.
    expect(e.mean + 1.645 * e.sd).toBeGreaterThan(mean + 1.645 * plainSd);
  });

  it('keeps the most recent images and round-trips them as plain data', () => {
    const m = new LinesModel({ mean: 8, sd: 6 }, 4);
    for (let k = 0; k < 6; k++) m.add(...scene(k), k);
    const saved = m.export();
    expect(saved.images.map((x) => x[3])).toEqual([2, 3, 4, 5]);
    const again = new LinesModel({ mean: 8, sd: 6 }, 4);
    again.import(JSON.parse(JSON.stringify(saved)) as typeof saved);
    const a = again.predict(...scene(9), est());
    const b = m.predict(...scene(9), est());
    expect(a.mean).toBeCloseTo(b.mean, 9);
    expect(a.sd).toBeCloseTo(b.sd, 9);
  });

  it('ignores results that are not counts', () => {
    const m = new LinesModel({ mean: 8, sd: 6 });
    m.add(1280, 720, 90_000, Number.NaN);
    m.add(0, 720, 90_000, 3);
    m.add(1280, 720, 0, 3);
    expect(m.count).toBe(0);
  });

  it('decide() predicts recognition from the image: a receipt after receipts costs more than a photo after photos', () => {
    const state = createEstimatorState(P);
    const policy = tandemPolicy();
    let t = 0;
    const run = (req: readonly [number, number, number], lines: number) => {
      const d = decide(buildObservation({ nowMs: (t += 5000), request: { width: req[0], height: req[1], bytes: req[2], budgetMs: 60_000 } }), P, policy, state);
      observe(state, d, { atMs: t + 100, ok: true, totalMs: 100, lines }, policy);
      return d;
    };
    for (let k = 0; k < 5; k++) {
      run(scene(k), 3);
      run(receipt(k), 60);
    }
    const s = run(scene(7), 3);
    const r = run(receipt(7), 60);
    expect(s.inputs.lines).toBeLessThan(6);
    expect(r.inputs.lines).toBeGreaterThan(45);
    // Restored in a new session.
    const next = createEstimatorState(P);
    next.importLearned(state.exportLearned());
    const d = decide(buildObservation({ nowMs: 1, request: { width: 700, height: 1600, bytes: 330_000 } }), P, policy, next);
    expect(d.inputs.lines).toBeGreaterThan(45);
  });
});
