import { describe, expect, it } from 'vitest';
import { alwaysDevicePolicy, EXAMPLE_PROFILES, Planner, type DeviceStage, type Observation } from '../../core/placement';
import { buildObservation, linkSamples } from '../../core/placement/observation-builder';
import { compareStages, planLabel, uploadShare, whyCode } from './explain';
import { executableProfiles } from './profiles';

const NOW = 10_000;
const PROFILES = executableProfiles(EXAMPLE_PROFILES, 'fp32');

function pagePlanner(): Planner {
  return new Planner(PROFILES);
}

function why(planner: Planner, obs: Observation) {
  const decision = planner.decide(obs);
  const code = whyCode(decision, planner.predictAll(obs), (i) => planner.explain(obs, i), obs.preferences.saveData);
  return { decision, code };
}

/** Device runs measured `factor` times slower than predicted, through the planner's own learning path. */
function teachSlowDevice(planner: Planner, factor: number): void {
  const policy = planner.policy;
  planner.policy = alwaysDevicePolicy();
  for (let k = 0; k < 4; k++) {
    const obs = buildObservation({ nowMs: 1000 * k, request: { budgetMs: 10_000 } });
    const d = planner.decide(obs);
    const device: Partial<Record<DeviceStage, number>> = {};
    for (const s of d.predicted.stages)
      if (s.where === 'device') device[s.stage as DeviceStage] = (device[s.stage as DeviceStage] ?? 0) + factor * s.expectedMs;
    planner.observe(d, { atMs: 1000 * k + 500, ok: true, totalMs: factor * d.predicted.expectedMs, lines: 8, device });
  }
  planner.policy = policy;
}

describe('planLabel', () => {
  const plans = pagePlanner().state.space.plans;
  it('says where, which detector at which size, and what is uploaded', () => {
    expect(planLabel(plans.find((p) => p.id === 'device:ppocr-det@fp32/960')!)).toBe('Device · detector fp32 @ 960');
    expect(planLabel(plans.find((p) => p.id === 'edge:ppocr-det@fp32/640:jpeg960q80')!)).toBe('Edge · detector fp32 @ 640 · upload JPEG 960 q80');
    expect(planLabel(plans.find((p) => p.kind === 'edge' && p.race && p.upload?.kind === 'original')!)).toMatch(
      /^Edge · detector fp32 @ \d+ · upload original · device race$/,
    );
    expect(planLabel(plans.find((p) => p.id === 'split-rec:ppocr-det@fp32/640:edge50%')!)).toBe('Split · detector fp32 @ 640 on device · 50% of lines on edge');
  });
});

describe('executable plan space', () => {
  it('holds only what the page carries out: no split detection, no classifier, one variant', () => {
    const plans = pagePlanner().state.space.plans;
    expect(plans.length).toBeGreaterThan(0);
    expect(plans.every((p) => p.kind !== 'split-det')).toBe(true);
    expect(plans.some((p) => p.kind === 'split-rec')).toBe(true);
    expect(plans.every((p) => p.cls === null && p.config.det === 'ppocr-det@fp32')).toBe(true);
  });
});

describe('whyCode', () => {
  const bigPhoto = { bytes: 400_000, width: 1280, height: 960 };

  it('300 kbit/s uplink, 1 s budget: the device answers because uploading takes too long', () => {
    const planner = pagePlanner();
    const obs = buildObservation({ nowMs: NOW, request: { ...bigPhoto, budgetMs: 1000 }, ...linkSamples({ atMs: NOW, rttMs: 40, upKbps: 300 }) });
    const { decision, code } = why(planner, obs);
    // A device plan, or an edge upload raced by the device: either way the edge alone would be late.
    expect(decision.plan.kind === 'device' || decision.plan.race).toBe(true);
    expect(code).toBe('uplink-too-slow-for-budget');
  });

  it('fast uplink, a device 4x slower than profiled, tight budget: the edge, because the device is too slow', () => {
    const planner = pagePlanner();
    teachSlowDevice(planner, 4);
    const obs = buildObservation({ nowMs: NOW, request: { budgetMs: 700 }, ...linkSamples({ atMs: NOW, rttMs: 20, upKbps: 50_000, downKbps: 100_000 }) });
    const { decision, code } = why(planner, obs);
    expect(decision.plan.detectOn).toBe('edge');
    expect(code).toBe('device-too-slow-for-budget');
  });

  it('models not on the device yet: the edge, because the device would first download them', () => {
    const planner = pagePlanner();
    const absent = buildObservation({}).device.models.map((m) => ({ ...m, state: 'absent' as const }));
    const obs = buildObservation({ nowMs: NOW, device: { models: absent }, ...linkSamples({ atMs: NOW, rttMs: 20, upKbps: 20_000, downKbps: 2_000 }) });
    const { decision, code } = why(planner, obs);
    expect(decision.plan.detectOn).toBe('edge');
    expect(code).toBe('device-models-missing');
  });

  it('offline: says so', () => {
    const planner = pagePlanner();
    const { decision, code } = why(planner, buildObservation({ nowMs: NOW, online: false }));
    expect(decision.plan.kind).toBe('device');
    expect(code).toBe('offline');
  });

  it('fast everything and a generous budget: the device, as accurate and free for the edge', () => {
    const planner = pagePlanner();
    const obs = buildObservation({ nowMs: NOW, request: { budgetMs: 20_000 }, ...linkSamples({ atMs: NOW, rttMs: 20, upKbps: 50_000, downKbps: 100_000 }) });
    const { decision, code } = why(planner, obs);
    expect(decision.plan.kind).toBe('device');
    expect(code).toBe('device-fits-without-edge-cost');
  });
});

describe('uploadShare', () => {
  it('is the upload part of the main path', () => {
    const stage = (name: string, startMs: number, expectedMs: number, branch = 'main') =>
      ({ stage: name, where: 'network', branch, startMs, expectedMs, sdMs: 0, bytes: 0 }) as never;
    expect(uploadShare([stage('rtt', 0, 20), stage('upload', 20, 60), stage('edge-det', 80, 20)])).toBeCloseTo(0.6);
    expect(uploadShare([stage('det', 0, 100, 'device')])).toBe(0);
  });
});

describe('compareStages', () => {
  it('pairs predicted and measured stages of an edge run, network as one row', () => {
    const planner = pagePlanner();
    planner.policy = { ...planner.policy, allows: (p) => p.kind === 'edge' && !p.race };
    const obs = buildObservation({ nowMs: NOW, ...linkSamples({ atMs: NOW, rttMs: 20, upKbps: 50_000 }) });
    const d = planner.decide(obs);
    const rows = compareStages(
      d,
      { atMs: NOW + 300, ok: true, totalMs: 300, edge: { elapsedMs: 290, serverMs: 200, uploadBytes: 1, queueMs: 3, stages: { det: 120, rec: 60 } } },
      'edge',
    );
    const byStage = Object.fromEntries(rows.map((r) => [r.stage, r]));
    expect(byStage['edge-det']!.actualMs).toBe(120);
    expect(byStage['edge-det']!.predictedMs).toBeGreaterThan(0);
    expect(byStage.network!.actualMs).toBe(90);
    expect(byStage.network!.predictedMs).toBeGreaterThan(0);
    expect(byStage.total).toEqual({ stage: 'total', predictedMs: d.predicted.expectedMs, actualMs: 300 });
  });
});

describe('whyCode for a photo read badly in time', () => {
  it('a side that reads the receipt well and is likely in time beats the one sure to be, which reads far less', () => {
    const planner = pagePlanner();
    const receipt = { width: 1200, height: 1600, bytes: 420_000 };
    // Two receipts of 43 lines seen before: this one is expected to hold as many.
    for (let k = 0; k < 2; k++) {
      const d = planner.decide(buildObservation({ nowMs: k * 1000, request: { ...receipt, budgetMs: 10_000 } }));
      planner.observe(d, { atMs: k * 1000 + 900, ok: true, totalMs: 900, lines: 43 });
    }
    const offline = { nowMs: NOW, online: false, connection: 'none' as const };
    const all = planner.predictAll(buildObservation({ ...offline, request: { ...receipt, budgetMs: 2000 } }));
    const id = (side: number) => all.plans.findIndex((p) => p.id === `device:ppocr-det@fp32/${side}`);
    // Only 320 px fits at p95; 640 px reads far more and is expected well within the budget.
    const budgetMs = Math.ceil(all.p95Ms[id(320)] + 5);
    expect(all.p95Ms[id(640)]).toBeGreaterThan(budgetMs);
    expect(all.expectedMs[id(640)]).toBeLessThan(budgetMs);
    expect(all.accuracy[id(640)]).toBeGreaterThan(all.accuracy[id(320)] + 0.25);
    const { decision, code } = why(planner, buildObservation({ ...offline, request: { ...receipt, budgetMs } }));
    expect(decision.reason).toBe('likely-in-time-reads-more');
    expect(decision.plan.config.maxSide).toBeGreaterThan(320);
    expect(code).not.toBe('low-recall-only-in-time');
  });
});
