/**
 * Two mispredictions recorded by the real-browser replay (a phone-speed Chromium, measured profiles), rebuilt from
 * their observations: wide receipt lines recognised on the edge, and a slow warm-up steering the device's speed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProfiles } from '../profiles';
import type { Point } from '../ocr/types';
import { createEstimatorState, decide, executableProfiles, observe, Planner, predictAll, recInputWidth } from './index';
import { profiledLineWidth } from './rec-width';
import type { Decision, Outcome } from './decision';
import { buildObservation, linkSamples } from './observation-builder';
import type { Policy } from './policies/policy';
import { tandemPolicy } from './policies/tandem';
import { alwaysDevicePolicy } from './policies/device';
import { alwaysEdgePolicy } from './policies/edge';

const measured = executableProfiles(parseProfiles(readFileSync(new URL('../../models/profiles.json', import.meta.url), 'utf8')), 'fp32');
const device = { backend: 'wasm', threads: 1 };

/** `n` boxes of w × h pixels, one under the other. */
const boxes = (n: number, w: number, h: number) =>
  Array.from({ length: n }, (_, i) => ({
    box: [
      [10, 10 + i * 2 * h],
      [10 + w, 10 + i * 2 * h],
      [10 + w, 10 + i * 2 * h + h],
      [10, 10 + i * 2 * h + h],
    ] as [Point, Point, Point, Point],
  }));
const stage = (d: Decision, name: string) => d.predicted.stages.filter((s) => s.stage === name).reduce((sum, s) => sum + s.expectedMs, 0);

describe('recorded: a 43-line receipt recognised on the edge (1.6 s real, 0.2 s predicted)', () => {
  // A portrait receipt photo; its lines are 280 × 28 px, 480 px wide at the recogniser's height: three profiled lines each.
  // A budget the largest side fits, so each read sees the whole photo and its line count is the receipt's.
  const receipt = (k: number) =>
    buildObservation({ nowMs: 1000 * k, device, request: { width: 960, height: 1280, bytes: 310_000 + 1000 * k, budgetMs: 60_000 } });
  const scene = buildObservation({ nowMs: 99_000, device, request: { width: 1280, height: 720, bytes: 120_000, budgetMs: 2000 } });
  const lines = boxes(43, 280, 28);
  // Detection took what was predicted: the surprise is recognition alone.
  const edgeRun = (d: Decision, withWidth: boolean): Outcome => ({
    atMs: d.atMs + 2000,
    ok: true,
    totalMs: 1900,
    winner: 'edge',
    lines: 43,
    recInputWidth: withWidth ? recInputWidth(lines) : undefined,
    edge: { elapsedMs: 1900, uploadBytes: 310_000, serverMs: 1750, queueMs: 0, stages: { det: stage(d, 'edge-det'), rec: 1600 }, lines: 43 },
  });

  it('counts recognition in profiled lines: 43 receipt lines are 129 of them', () => {
    expect(recInputWidth(lines) / (43 * 160)).toBeCloseTo(3, 1);
  });

  it("learns the receipt's width from the first one, predicts the next within 25 %, and keeps scenes at the profile", () => {
    const planner = new Planner(measured, alwaysEdgePolicy());
    const first = planner.decide(receipt(1));
    const before = stage(first, 'edge-rec');
    const sceneBefore = stage(planner.decide(scene), 'edge-rec') / planner.decide(scene).inputs.lines;
    // The recorded misprediction was about 0.2 s against 1.6 s, from the profile's 15 lines per photo. A receipt's
    // shape now says tens of lines as wide as the development set's receipts run (1.6 profiled lines each): about
    // 1.1 s, still short, as this one's lines are three times as wide as profiled ones.
    expect(before).toBeGreaterThan(900);
    expect(before).toBeLessThan(1600);
    planner.observe(first, edgeRun(first, true));
    const next = planner.decide(receipt(2));
    const after = stage(next, 'edge-rec');
    console.log(`edge rec of a 43-line receipt: predicted ${before.toFixed(0)} ms before, ${after.toFixed(0)} ms after one receipt (real 1600 ms)`);
    expect(Math.abs(after - 1600) / 1600).toBeLessThan(0.25);
    expect(next.inputs.recWidthFactor).toBeGreaterThan(2.5);
    // The edge did not get slower: a street photo's lines still cost what the profile says.
    const s = planner.decide(scene);
    expect(stage(s, 'edge-rec') / s.inputs.lines).toBeCloseTo(sceneBefore, -0.5);
    expect(s.inputs.recWidthFactor).toBeCloseTo(1, 1);
  });

  it("learns the phone's recognition per profiled line the same way", () => {
    const planner = new Planner(measured, alwaysDevicePolicy());
    const first = planner.decide(receipt(1));
    // This phone recognises exactly at the profile's speed; the receipt's lines are three times as wide.
    const profiled = planner.state.deviceModelsFor('wasm', 1).rec[planner.state.modelIndex.get(first.plan.config.rec)!]!;
    const rec = profiled.mean(43 * 3);
    const sceneBefore = planner.decide(scene);
    const perLine = stage(sceneBefore, 'rec') / sceneBefore.inputs.lines;
    planner.observe(first, { atMs: 5000, ok: true, totalMs: rec + 500, winner: 'device', lines: 43, recInputWidth: recInputWidth(lines), device: { rec } });
    const after = stage(planner.decide(receipt(2)), 'rec');
    expect(Math.abs(after - rec) / rec).toBeLessThan(0.25);
    const s = planner.decide(scene);
    expect(stage(s, 'rec') / s.inputs.lines).toBeCloseTo(perLine, -0.5);
  });
});

describe('recorded: a warm-up three times slower than the runs after it (two pages warming up at once)', () => {
  const photo = (k: number) => buildObservation({ nowMs: 1000 * k, device, request: { width: 1280, height: 960, bytes: 250_000, budgetMs: 2000 } });
  const policy = alwaysDevicePolicy();
  /** The phone's real stage times for a decision: exactly the profile's (the phone is the profiled one). */
  const pristine = new Planner(measured, policy).state;
  const seeds = pristine.deviceModelsFor('wasm', 1);
  const truth = (d: Decision) => ({
    'det-preprocess': seeds.detPreprocess!.mean(d.inputs.detPixels),
    det: seeds.det[pristine.modelIndex.get(d.plan.config.det)!]!.mean(d.inputs.detPixels),
    rec: seeds.rec[pristine.modelIndex.get(d.plan.config.rec)!]!.mean(d.inputs.lines),
  });
  const run = (d: Decision, slow: number, warmUp: boolean): Outcome => {
    const t = truth(d);
    const dev = { 'det-preprocess': t['det-preprocess'] * slow, det: t.det * slow, rec: t.rec * slow };
    return {
      atMs: d.atMs + 1,
      ok: true,
      totalMs: dev.det + dev.rec,
      winner: 'device',
      device: dev,
      deviceLines: d.inputs.lines,
      recInputWidth: d.inputs.lines * 160,
      warmUp,
    };
  };
  const detRec = (d: Decision) => stage(d, 'det') + stage(d, 'rec');
  const ratio = (d: Decision) => detRec(d) / (truth(d).det + truth(d).rec);

  function session(warmUpSlowdown: number, weak: boolean): number[] {
    const planner = new Planner(measured, policy);
    const ratios: number[] = [];
    const w = decide(photo(1), measured, policy, planner.state);
    observe(planner.state, w, run(w, warmUpSlowdown, weak), policy);
    ratios.push(ratio(planner.decide(photo(2))));
    for (let k = 0; k < 3; k++) {
      const d = planner.decide(photo(3 + k));
      planner.observe(d, { ...run(d, 1, false), lines: d.inputs.lines });
      ratios.push(ratio(planner.decide(photo(10 + k))));
    }
    return ratios;
  }

  it('a warm-up taken at face value predicts about twice too slow before the first photo', () => {
    expect(session(3, false)[0]).toBeGreaterThan(1.9);
  });

  it('counted as one weak, clipped sample it cannot hold the speed high, and real runs take over at once', () => {
    const ratios = session(3, true);
    console.log(`device det+rec predicted / real after a 3× slow warm-up, then after 1..3 real runs: ${ratios.map((r) => r.toFixed(2)).join(', ')}`);
    expect(ratios[0]).toBeLessThan(1.45);
    // The first real run takes over (the location's speed and the stage's own fit both learn from it) and the
    // next ones keep it there.
    for (let k = 1; k < ratios.length; k++) expect(ratios[k]).toBeLessThan(1.1);
  });

  it('a warm-up twenty times slower (first runs still tiering up) is clipped, not taken as a 20× slower phone', () => {
    expect(session(20, true)[0]).toBeLessThan(2.05);
    expect(session(20, false)[0]).toBeGreaterThan(5);
  });

  it('the device speed is a median of runs: one slow run among steady ones moves it little, with a spread', () => {
    const planner = new Planner(measured, policy);
    for (let k = 0; k < 5; k++) {
      const d = planner.decide(photo(1 + k));
      planner.observe(d, { ...run(d, k === 3 ? 4 : 1, false), lines: d.inputs.lines });
    }
    const gain = planner.state.deviceModelsFor('wasm', 1).gain;
    // Median of ratios: the 4× run does not move the shared speed; its scatter shows in the spread.
    expect(gain.gain).toBeGreaterThan(0.9);
    expect(gain.gain).toBeLessThan(1.1);
    expect(gain.sdLn).toBeGreaterThanOrEqual(0);
    expect(Math.abs(ratio(planner.decide(photo(20))) - 1)).toBeLessThan(0.35);
  });
});

describe('recorded: a desktop-speed device seeded with the quarter-core phone, a 300 kbit/s uplink, 1 s budget', () => {
  // The auto-placement flow's photo (800 × 450, two lines); three device runs as measured in Chromium on a desktop,
  // after the runtime's warm-up. The profiles' phone is about four times slower.
  const runtime = { backend: 'wasm', threads: 2 };
  const link = (atMs: number) => linkSamples({ atMs, rttMs: 20, upKbps: 300, downKbps: 50_000, count: 3, bytes: 60_000 });
  const photo = (k: number, budgetMs: number) =>
    buildObservation({ nowMs: 1000 * k, device: runtime, ...link(1000 * k), request: { width: 800, height: 450, bytes: 48_000, budgetMs } });
  const runs = [
    { decode: 135, 'det-preprocess': 52, det: 383, postprocess: 57, rec: 657 },
    { decode: 124, 'det-preprocess': 16, det: 141, postprocess: 26, rec: 173 },
    { decode: 65, 'det-preprocess': 24, det: 128, postprocess: 14, rec: 262 },
  ];
  const lines = boxes(2, 560, 40);

  function session(policy: Policy) {
    const planner = new Planner(measured, policy);
    // The page's Device mode: the same learnt state, a fixed policy.
    const forced = alwaysDevicePolicy();
    const predicted: number[] = [];
    runs.forEach((device, k) => {
      const d = decide(photo(2 + k, 1000), measured, forced, planner.state);
      predicted.push(d.predicted.expectedMs);
      const totalMs = Object.values(device).reduce((a, b) => a + b, 0);
      observe(
        planner.state,
        d,
        { atMs: d.atMs + 800, ok: true, totalMs, winner: 'device', device, lines: 2, deviceLines: 2, recInputWidth: recInputWidth(lines) },
        forced,
      );
    });
    return { planner, predicted };
  }

  it('three device runs teach the device speed: the next run is predicted within 50 % of what they took', () => {
    const { planner, predicted } = session(alwaysDevicePolicy());
    const d = planner.decide(photo(10, 1000));
    const real = runs.map((r) => Object.values(r).reduce((a, b) => a + b, 0));
    const realMean = real.reduce((a, b) => a + b, 0) / real.length;
    console.log(
      `device run predicted ${predicted.map((p) => p.toFixed(0)).join(', ')} ms before real runs of ${real.join(', ')} ms; then ${d.predicted.expectedMs.toFixed(0)} ms (p95 ${d.predicted.p95Ms.toFixed(0)})`,
    );
    expect(Math.abs(d.predicted.expectedMs - realMean) / realMean).toBeLessThan(0.5);
    // Its spread stays honest (the first real run took three times the next two), not the profile's quarter-core tail.
    expect(d.predicted.p95Ms).toBeGreaterThan(Math.max(...real));
    expect(d.predicted.p95Ms).toBeLessThan(4 * realMean);
  });

  it('auto mode then keeps the photo on the device: the upload alone takes longer than the budget', () => {
    const { planner } = session(tandemPolicy());
    const d = planner.decide(photo(10, 1000));
    expect(d.plan.kind === 'device' || d.plan.race !== undefined).toBe(true);
  });
});

describe('recorded: the edge recogniser profiled with one stray run (26 ms among six of 12-16 ms)', () => {
  it("is read as a stray, not as a run-to-run spread that would double every edge recognition's p95", () => {
    const state = new Planner(measured, alwaysEdgePolicy()).state;
    const rec = state.edgeModels.rec[state.modelIndex.get('ppocr-rec@fp32')!]!;
    // From the p90 of seven runs (their slowest) the relative spread would be 0.54; from the second slowest, 0.14.
    expect(rec.seed.relSd).toBeLessThan(0.2);
    expect(Math.sqrt(rec.relVar)).toBeLessThan(0.2);
  });
});

describe('recorded: a receipt answered after 6.5 s behind six others (the refusal-recovery flow)', () => {
  const receipt = (k: number) => buildObservation({ nowMs: 1000 * k, device, request: { width: 720, height: 1400, bytes: 200_000, budgetMs: 2000 } });
  const lines = boxes(32, 300, 24);
  const reply = (d: Decision, queueMs: number, rec: number): Outcome => ({
    atMs: d.atMs + queueMs + 2500,
    ok: true,
    totalMs: queueMs + 2500,
    winner: 'edge',
    lines: 32,
    recInputWidth: recInputWidth(lines),
    edge: { elapsedMs: queueMs + 2500, uploadBytes: 60_000, serverMs: queueMs + rec + 200, queueMs, stages: { det: stage(d, 'edge-det'), rec }, lines: 32 },
  });

  it('its recognition, slowed by the others beside it, does not teach an edge four times slower', () => {
    const after = (queueMs: number, rec: number) => {
      const planner = new Planner(measured, alwaysEdgePolicy());
      const first = planner.decide(receipt(1));
      planner.observe(first, reply(first, queueMs, rec));
      return stage(planner.decide(receipt(30)), 'edge-rec');
    };
    // What a receipt of this width costs by the profile alone, learnt from an idle reply of the profile's speed.
    const planner = new Planner(measured, alwaysEdgePolicy());
    const first = planner.decide(receipt(1));
    const perProfiledLine = stage(first, 'edge-rec') / (first.inputs.lines * (first.inputs.recWidthFactor ?? 1));
    const profileRec = (perProfiledLine * recInputWidth(lines)) / profiledLineWidth(measured);
    // The recorded reply: rec 2348 ms after 6456 ms of queue; the same receipt took 551 ms once the others were done.
    const crowded = after(6456, 2348);
    const idle = after(0, 551);
    console.log(
      `edge rec of the next receipt predicted ${crowded.toFixed(0)} ms after the crowded reply, ${idle.toFixed(0)} ms after an idle one (profile alone: ${profileRec.toFixed(0)} ms)`,
    );
    // The crowded reply barely moves the idle edge's cost; an idle one is learnt.
    expect(crowded).toBeLessThan(1.35 * profileRec);
    expect(Math.abs(idle - 551)).toBeLessThan(Math.abs(crowded - 551));
    // Once the edge has read a few receipts on its own, a crowded reply slower than them says nothing more.
    const settled = new Planner(measured, alwaysEdgePolicy());
    for (let k = 1; k <= 3; k++) {
      const d = settled.decide(receipt(k));
      settled.observe(d, reply(d, 0, 551));
    }
    const before = stage(settled.decide(receipt(10)), 'edge-rec');
    const d = settled.decide(receipt(11));
    settled.observe(d, reply(d, 6456, 2348));
    expect(Math.abs(stage(settled.decide(receipt(30)), 'edge-rec') / before - 1)).toBeLessThan(0.03);
    // A reply that did not wait is taken at its word (within the edge's prior: it is the profiled machine).
    expect(after(0, 2348)).toBeGreaterThan(1.15 * crowded);
  });
});

describe('recorded: street scenes raced at a small side on a 1 Mbit/s / 250 kbit/s link (1.6 s predicted, 1.9–2.5 s real)', () => {
  // Four scenes, each raced with the phone reading it at 320 px, predicted at the phone's time: the edge answered every
  // race, the phone's answer not there yet or holding no line (which does not end a race: tooFewLines). Three scenes
  // in four read no line at 320 px on the development set.
  const link = linkSamples({ atMs: 5000, rttMs: 300, upKbps: 250, downKbps: 1000 });
  const photo = (width: number, height: number, bytes: number) =>
    buildObservation({ nowMs: 5000, device, request: { width, height, bytes, budgetMs: 2000 }, ...link });
  const races = (o: ReturnType<typeof photo>) => {
    const all = predictAll(o, measured, createEstimatorState(measured));
    const f = all.fallback;
    const out: { race: number; plain: number; deviceFirst: number; fallbackSide: number }[] = [];
    for (let i = 0; i < all.plans.length; i++) {
      const p = all.plans[i];
      if (!p.race || p.upload?.kind !== 'original') continue;
      const plain = all.plans.findIndex((q) => q.id === p.id.replace('+race', ''));
      out.push({
        race: all.expectedMs[i],
        plain: all.expectedMs[plain],
        deviceFirst: all.hedgeAtMs + all.expectedMs[f],
        fallbackSide: all.plans[f].config.maxSide,
      });
    }
    return out;
  };

  it('a race whose device answer is likely empty is predicted near the edge’s own time; a page’s race as before', () => {
    const scenes = races(photo(1280, 720, 100_000));
    expect(scenes.length).toBeGreaterThan(0);
    for (const r of scenes) {
      expect(r.fallbackSide).toBeLessThanOrEqual(480);
      expect(r.deviceFirst).toBeLessThan(0.8 * r.plain);
      // A small side keeps about a fifth of a three-line scene's text: most of the time its answer holds no line.
      expect(r.race).toBeGreaterThan(r.deviceFirst + 0.5 * (r.plain - r.deviceFirst));
    }
    // A receipt keeps lines at any side: its race still ends with whichever answers first.
    for (const r of races(photo(1080, 1527, 190_000))) expect(r.race).toBeCloseTo(Math.min(r.plain, r.deviceFirst), 0);
  });
});

describe('recorded: receipt 030 read at 320 px (6 of its 38 lines) taught the next receipt of its size 10 lines', () => {
  // Both 1080 × 1527 photos of receipts (SROIE 030 and 031); 031 then took 2.4 s at 960 px against 1.0 s predicted.
  const photo = (k: number, bytes: number) => buildObservation({ nowMs: 10_000 * k, device, request: { width: 1080, height: 1527, bytes, budgetMs: 2000 } });
  const atSide = (side: number): Policy => ({
    name: 'edge',
    allows: (plan) => plan.kind === 'edge' && !plan.race && plan.upload?.kind === 'original' && plan.config.maxSide === side,
    choose: (view) => ({ index: view.eligible.indexOf(1), reason: 'most-accurate-within-budget' }),
  });
  const read = (d: Decision, lines: number): Outcome => ({ atMs: d.atMs + 1000, ok: true, totalMs: 1000, winner: 'edge', lines });

  it('a small-side read does not teach how many lines such a photo holds; a full-side read does', () => {
    const planner = new Planner(measured, atSide(320));
    const small = planner.decide(photo(1, 136_662));
    expect(small.plan.config.maxSide).toBe(320);
    const before = planner.decide(photo(2, 194_710)).inputs.lines;
    planner.observe(small, read(small, 6));
    expect(planner.decide(photo(2, 194_710)).inputs.lines).toBeCloseTo(before, 6);

    const full = new Planner(measured, atSide(960));
    const first = full.decide(photo(1, 136_662));
    full.observe(first, read(first, 38));
    const next = full.decide(photo(2, 194_710)).inputs.lines;
    expect(Math.abs(next - 39) / 39).toBeLessThan(Math.abs(before - 39) / 39 + 1e-9);
  });
});

describe('recorded: a phone without models on a slow uplink, 60 s budget (the race was credited more than either of its reads)', () => {
  // A two-line 800 × 450 photo: the device at 960 px and the edge at 800 px read the same lines (the photo is smaller
  // than both sides), so an empty device answer is an empty edge answer too. Crediting the edge's whole recall for the
  // device's empty answers put the race above the best device set, and the page fetched fp16 or raced the edge
  // instead of the int8-weights set that reads within a point of it.
  const every = executableProfiles(parseProfiles(readFileSync(new URL('../../models/profiles.json', import.meta.url), 'utf8')), null);
  const photo = (upKbps: number) =>
    buildObservation({
      nowMs: 30_000,
      device: { ...device, models: [] },
      request: { width: 800, height: 450, bytes: 60_000, budgetMs: 60_000 },
      ...linkSamples({ atMs: 30_000, rttMs: 20, upKbps, downKbps: 20_000 }),
    });

  it('a race reads no more than the better of its answers when the edge’s side keeps no more of the photo', () => {
    for (const upKbps of [300, 60, 20, 8]) {
      const all = predictAll(photo(upKbps), every, createEstimatorState(every));
      const f = all.fallback;
      const races = all.plans.filter((p) => p.race && p.config.maxSide <= all.plans[f].config.maxSide);
      expect(races.length).toBeGreaterThan(0);
      for (const p of races) {
        const plain = all.plans.findIndex((q) => q.id === p.id.replace('+race', ''));
        expect(all.accuracy[p.index]).toBeLessThanOrEqual(Math.max(all.accuracy[plain], all.accuracy[f]) + 1e-9);
      }
      const d = decide(photo(upKbps), every, tandemPolicy(), createEstimatorState(every));
      expect([upKbps, d.plan.id]).toEqual([upKbps, 'device:ppocr-det@int8-weights/960']);
    }
  });

  it('a race whose edge reads at a larger side than the device still counts what the edge finds beyond it', () => {
    const scene = buildObservation({
      nowMs: 30_000,
      device,
      request: { width: 1280, height: 720, bytes: 100_000, budgetMs: 60_000 },
      ...linkSamples({ atMs: 30_000, rttMs: 20, upKbps: 8, downKbps: 20_000 }),
    });
    const all = predictAll(scene, every, createEstimatorState(every));
    const f = all.fallback;
    const larger = all.plans.filter((p) => p.race && p.upload?.kind === 'original' && p.config.maxSide > all.plans[f].config.maxSide);
    for (const p of larger) expect(all.accuracy[p.index]).toBeGreaterThan(all.accuracy[f]);
  });
});
