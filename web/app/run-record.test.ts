import { describe, expect, it } from 'vitest';
import { EXAMPLE_PROFILES, Planner, type Decision } from '../../core/placement';
import { buildObservation } from '../../core/placement/observation-builder';
import { planLabel, WHY_TEXT } from '../placement/explain';
import type { PageDecision } from '../placement/page-planner';
import { executableProfiles } from '../placement/profiles';
import type { OcrOutcome } from './run-ocr';
import { buildRunRecord, type RunRecordInput } from './run-record';

const PROFILES = executableProfiles(EXAMPLE_PROFILES, 'fp32');

function placementFor(budgetMs: number): PageDecision {
  const planner = new Planner(PROFILES);
  const decision: Decision = planner.decide(buildObservation({ nowMs: 1000, request: { budgetMs, width: 1280, height: 960, bytes: 300_000 } }));
  return {
    mode: 'auto',
    decision,
    policy: planner.policy,
    label: planLabel(decision.plan),
    why: 'edge-more-accurate',
    whyText: WHY_TEXT['edge-more-accurate'],
  };
}

const BASE: Omit<RunRecordInput, 'placement' | 'outcome' | 'error'> = {
  seq: 3,
  startedAt: 1_700_000_000_000,
  startMs: 500,
  endMs: 1730,
  mode: 'auto',
  autoPolicy: 'tandem',
  budgetMs: 2000,
  photo: { bytes: 300_000, type: 'image/jpeg', width: 1280, height: 960 },
};

function edgeOutcome(placement: PageDecision): OcrOutcome {
  return {
    target: 'edge',
    mode: 'auto',
    placement,
    lines: [
      {
        text: 'Hello',
        score: 0.98,
        boxScore: 0.9,
        box: [
          [0, 0],
          [1, 0],
          [1, 1],
          [0, 1],
        ],
      } as OcrOutcome['lines'][number],
    ],
    image: { width: 1280, height: 960 },
    stages: [
      ['decode', 12],
      ['det', 340],
      ['rec', 80],
      ['total', 450],
      ['network', 210],
    ],
    profiles: 'example',
    edgeServerMs: 450,
    comparison: [],
    where: 'Edge',
    wallMs: 1200,
    raceWon: 'edge',
  };
}

describe('buildRunRecord', () => {
  it('carries the decision, its prediction per stage, what was measured and the lines', () => {
    const placement = placementFor(2000);
    const record = buildRunRecord({ ...BASE, placement, outcome: edgeOutcome(placement) });
    const d = placement.decision;
    expect(record).toMatchObject({
      seq: 3,
      mode: 'auto',
      policy: 'tandem',
      budgetMs: 2000,
      ok: true,
      planId: d.plan.id,
      planLabel: planLabel(d.plan),
      reason: d.reason,
      why: 'edge-more-accurate',
      constraints: d.constraints,
      ranOn: 'edge',
      raceWon: 'edge',
      awaitedBetter: false,
      fellBack: null,
      retried: null,
      recognition: null,
      secondLook: null,
      split: null,
      edgeServerMs: 450,
      lines: [{ text: 'Hello', score: 0.98 }],
      image: { width: 1280, height: 960, bytes: 300_000, type: 'image/jpeg' },
      error: null,
    });
    // Request start to lines shown, not the planner's own total.
    expect(record.wallMs).toBe(1230);
    // A raced phone answer that held no line, and the edge's awaited instead, is on the record.
    expect(buildRunRecord({ ...BASE, placement, outcome: { ...edgeOutcome(placement), awaitedBetter: true } }).awaitedBetter).toBe(true);
    // So is a second look at a larger side, used or not.
    const look = {
      label: 'Edge · detector fp32 @ 960',
      planId: 'edge:960',
      why: 'far fewer lines',
      used: false,
      firstLines: 0,
      lines: null,
      firstMs: 700,
      note: 'late',
    };
    expect(buildRunRecord({ ...BASE, placement, outcome: { ...edgeOutcome(placement), secondLook: look } }).secondLook).toEqual(look);
    expect(record.measuredStages).toEqual({ decode: 12, det: 340, rec: 80, total: 450, network: 210 });
    expect(Object.keys(record.measuredStages)).toEqual(['decode', 'det', 'rec', 'total', 'network']);
    expect(record.predicted!.expectedMs).toBe(d.predicted.expectedMs);
    expect(record.predicted!.p95Ms).toBe(d.predicted.p95Ms);
    expect(record.predicted!.fits).toBe(d.fits);
    expect(record.predicted!.stages.map((s) => s.stage)).toEqual(d.predicted.stages.map((s) => s.stage));
    for (const [i, s] of record.predicted!.stages.entries()) {
      expect(s.expectedMs).toBe(d.predicted.stages[i]!.expectedMs);
      expect(s.p95Ms).toBeGreaterThanOrEqual(s.expectedMs);
      if (d.predicted.stages[i]!.sdMs > 0) expect(s.p95Ms).toBeGreaterThan(s.expectedMs);
    }
    // Plain data: survives JSON (what a harness reads through page.evaluate) unchanged.
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it('records a failed run with its decision and the error code', () => {
    const placement = placementFor(800);
    const error = Object.assign(new Error('The edge server did not answer'), { name: 'EdgeTimeout' });
    const record = buildRunRecord({ ...BASE, placement, error });
    expect(record).toMatchObject({ ok: false, planId: placement.decision.plan.id, ranOn: null, lines: [], measuredStages: {}, edgeServerMs: null });
    expect(record.error).toEqual({ code: 'EdgeTimeout', message: 'The edge server did not answer' });
    expect(record.image).toEqual({ width: 1280, height: 960, bytes: 300_000, type: 'image/jpeg' });
  });

  it('records a failure before any decision under the policy that would have decided', () => {
    const auto = buildRunRecord({ ...BASE, autoPolicy: 'layercake', error: 'boom' });
    expect(auto).toMatchObject({ ok: false, policy: 'layercake', planId: null, planLabel: null, reason: null, why: null, predicted: null, constraints: [] });
    expect(auto.error).toEqual({ code: 'Error', message: 'boom' });
    expect(buildRunRecord({ ...BASE, mode: 'device', autoPolicy: 'layercake', error: new TypeError('x') })).toMatchObject({
      policy: 'device',
      error: { code: 'TypeError', message: 'x' },
    });
  });
});
