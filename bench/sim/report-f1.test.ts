import { describe, expect, it } from 'vitest';
import { buildReport } from './report';
import { ORACLE, type RequestRecord, SIM_POLICIES, type SimPolicy, type SimResult } from './simulate';

/** A record that only says where the image was prepared (null: the plan uploads no image). */
function rec(onDevice: boolean | null, oracle: boolean | null, faster: boolean | null = oracle): RequestRecord {
  return {
    trace: 't',
    arrivalMs: 0,
    budgetMs: 1000,
    totalMs: 100,
    met: true,
    accuracy: 0.8,
    edgeMs: onDevice === null ? 0 : 50,
    cellularBytes: 0,
    policyApe: 0.1,
    planId: onDevice === null ? 'device:x' : 'edge:x',
    kind: onDevice === null ? 'device' : 'edge',
    race: false,
    winner: onDevice === null ? 'device' : 'edge',
    preprocessOnDevice: onDevice,
    preprocessFaster: faster,
    preprocessOracle: oracle,
    preprocessOriginalMs: onDevice === null ? null : 950,
    concurrencySpeedup: null,
    predictedMeanMs: 80,
    predictedP95Ms: 100,
    predictedFits: true,
    recognitionRedecided: false,
    lines: 3,
    predictedLines: 3,
  };
}

function result(tandem: RequestRecord[], oracle: RequestRecord[]): SimResult {
  const records = new Map<SimPolicy, Map<number, RequestRecord[]>>();
  for (const p of SIM_POLICIES) records.set(p, new Map([[1000, p === 'tandem' ? tandem : tandem.map(() => rec(false, false))]]));
  records.set(ORACLE, new Map([[1000, oracle]]));
  return {
    records,
    potentialSpeedups: [],
    requests: tandem.length,
    traces: 1,
    runtimes: { device: 'd', edge: 'e' },
    planSpace: { kind: 'page', variant: 'fp32', plans: 1 },
    upDerived: { t: false },
  };
}

describe('preprocessing-placement F1', () => {
  it('scores every request where the policy uploads the whole image against the oracle’s placement for it', () => {
    // tp 3, fp 1, fn 1, tn 2; two requests run on the device and are not scored.
    const tandem = [
      rec(true, true),
      rec(true, true),
      rec(true, true),
      rec(true, false),
      rec(false, true),
      rec(false, false),
      rec(false, false),
      rec(null, null),
      rec(null, null),
    ];
    // The oracle's own plan mostly runs on the device: the narrower "where it uploads too" figure sees only two requests.
    const oracle = [
      rec(true, true),
      rec(null, null),
      rec(null, null),
      rec(null, null),
      rec(false, false),
      rec(null, null),
      rec(null, null),
      rec(null, null),
      rec(null, null),
    ];
    const r = buildReport(result(tandem, oracle), { profileKind: 'example', profileDescription: 'test', budgets: [1000], run: {} });
    expect(r.preprocess_f1_detail.tandem).toEqual({ f1: 0.75, precision: 0.75, recall: 0.75, n: 7 });
    expect(r.preprocess_f1).toBe(0.75);
    expect(r.policies.tandem['1000'].preprocess_f1).toBe(0.75);
    expect(r.preprocess_f1_both_upload.tandem.n).toBe(2);
    // Two disagreements, both with the original at 950 ms against a 1000 ms budget: at the margin.
    expect(r.preprocess_disagreements).toEqual({ n: 2, near_budget_share: 1 });
    // Every answer took 100 ms against a predicted p95 of 100 ms: none was later than predicted.
    expect(r.policies.tandem['1000'].late_vs_p95).toBe(0);
    expect(r.policies[ORACLE]['1000'].late_vs_p95).toBeNull();
    // Every budget gets the target table; this one counts (the oracle met every budget).
    const f1Target = r.targets.find((t) => t.budget_ms === 1000 && t.target === 'tandem preprocessing F1 vs oracle')!;
    expect(f1Target).toMatchObject({ oracle_reliable: true, value: 0.75, met: false });
  });

  it('agreeing that the original goes up every time is perfect agreement', () => {
    const tandem = [rec(false, false), rec(false, false)];
    const r = buildReport(result(tandem, tandem), { profileKind: 'example', profileDescription: 'test', budgets: [1000], run: {} });
    expect(r.preprocess_f1).toBe(1);
  });
});
