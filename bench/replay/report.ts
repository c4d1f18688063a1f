/**
 * Figures of a replay, per policy and budget, from the requests the real page answered (and what the simulator
 * said of the same requests). Denominators: every request sent; a failure or a missing answer counts as late and
 * reads nothing.
 */
import { quantile } from '../sim/report';
import type { ReplayPolicy, ReplayRecord } from './session';

export interface ReplayFigures {
  requests: number;
  /** Share answered within the budget. */
  attainment: number;
  /** Mean word recall against the labels (a failure scores 0). */
  accuracy: number;
  /** The same with an answer after the budget scoring 0. */
  accuracy_in_budget: number;
  /** Edge milliseconds (server time of its answers) over those of the edge policy at the same budget. */
  edge_cost_rel: number | null;
  /** |predicted − measured| / measured of the whole request, over answered requests with a prediction. */
  prediction_error_median: number;
  prediction_error_p90: number;
  /** Of the answers predicted to fit (p95 within the budget), the share that came later than that p95. */
  late_vs_p95: number | null;
  /** The simulator's attainment on the same requests. */
  sim_attainment: number | null;
  failures: number;
  fallbacks: number;
  ran_on: Record<string, number>;
  latency_p50_ms: number;
  latency_p90_ms: number;
  up_bytes_mean: number;
}

export interface Fidelity {
  /** |simulated − real| attainment, points (0..1), per policy and budget. */
  attainment_gap: Record<string, Record<string, number>>;
  max_attainment_gap: number;
  /** Simulated / real latency per request: quantiles over all requests with both. */
  latency_ratio: { p10: number; p50: number; p90: number; n: number };
}

export type PolicyTable = Record<string, Record<string, ReplayFigures>>;

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export function figures(records: readonly ReplayRecord[], edgeMsOfEdgePolicy: number | null): ReplayFigures {
  const n = records.length;
  const answered = records.filter((r) => r.failure === null);
  // The prediction is the first plan's: a second look's answer came later, from another plan.
  const errors = answered
    .map((r) => ({ predicted: r.predictedP50Ms, measured: r.secondLook?.firstMs ?? r.totalMs }))
    .filter((r) => Number.isFinite(r.predicted) && r.measured > 0)
    .map((r) => Math.abs(r.predicted - r.measured) / r.measured);
  const fit = answered.filter((r) => Number.isFinite(r.predictedP95Ms) && r.predictedP95Ms <= r.budgetMs);
  const withSim = records.filter((r) => r.sim !== undefined);
  const ranOn: Record<string, number> = {};
  for (const r of records) ranOn[r.ranOn] = (ranOn[r.ranOn] ?? 0) + 1;
  const edgeMs = records.reduce((s, r) => s + r.edgeMs, 0);
  const latencies = answered.map((r) => r.totalMs);
  return {
    requests: n,
    attainment: n ? records.filter((r) => r.met).length / n : NaN,
    accuracy: mean(records.map((r) => (r.failure === null ? r.wordRecall : 0))),
    accuracy_in_budget: mean(records.map((r) => (r.met ? r.wordRecall : 0))),
    edge_cost_rel: edgeMsOfEdgePolicy && edgeMsOfEdgePolicy > 0 ? edgeMs / edgeMsOfEdgePolicy : null,
    prediction_error_median: errors.length ? quantile(errors, 0.5) : NaN,
    prediction_error_p90: errors.length ? quantile(errors, 0.9) : NaN,
    late_vs_p95: fit.length ? fit.filter((r) => r.totalMs > r.predictedP95Ms).length / fit.length : null,
    sim_attainment: withSim.length ? withSim.filter((r) => r.sim!.met).length / withSim.length : null,
    failures: n - answered.length,
    fallbacks: records.filter((r) => r.fellBack !== null || r.retried !== null).length,
    ran_on: ranOn,
    latency_p50_ms: latencies.length ? quantile(latencies, 0.5) : NaN,
    latency_p90_ms: latencies.length ? quantile(latencies, 0.9) : NaN,
    up_bytes_mean: mean(records.map((r) => r.upBytes)),
  };
}

/** policy → budget → figures, edge cost relative to the edge policy's requests at the same budget. */
export function policyTable(records: readonly ReplayRecord[], select: (r: ReplayRecord) => boolean = () => true): PolicyTable {
  const rs = records.filter(select);
  const budgets = [...new Set(rs.map((r) => r.budgetMs))].sort((a, b) => a - b);
  const policies = [...new Set(rs.map((r) => r.policy))];
  const table: PolicyTable = {};
  for (const policy of policies) {
    table[policy] = {};
    for (const b of budgets) {
      const mine = rs.filter((r) => r.policy === policy && r.budgetMs === b);
      if (mine.length === 0) continue;
      const edge = rs.filter((r) => r.policy === 'edge' && r.budgetMs === b);
      table[policy][String(b)] = figures(mine, edge.length ? edge.reduce((s, r) => s + r.edgeMs, 0) : null);
    }
  }
  return table;
}

export function fidelity(table: PolicyTable, records: readonly ReplayRecord[]): Fidelity {
  const gap: Fidelity['attainment_gap'] = {};
  let max = 0;
  for (const [policy, byBudget] of Object.entries(table)) {
    gap[policy] = {};
    for (const [b, f] of Object.entries(byBudget)) {
      if (f.sim_attainment === null) continue;
      const g = Math.abs(f.sim_attainment - f.attainment);
      gap[policy][b] = g;
      max = Math.max(max, g);
    }
  }
  const ratios = records.filter((r) => r.sim && r.failure === null && r.totalMs > 0).map((r) => r.sim!.totalMs / r.totalMs);
  return {
    attainment_gap: gap,
    max_attainment_gap: max,
    latency_ratio: { p10: quantile(ratios, 0.1), p50: quantile(ratios, 0.5), p90: quantile(ratios, 0.9), n: ratios.length },
  };
}

const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(0)} %`);
const num = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');

export function markdownTable(table: PolicyTable): string {
  const rows = [
    '| policy | budget ms | n | attainment | sim attainment | accuracy | accuracy in budget | edge cost | pred. error p50 / p90 | late vs p95 | p50 / p90 ms | ran on | failures | fallbacks |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|',
  ];
  const order: string[] = ['tandem', 'device', 'edge', 'layercake', 'pieslicer'];
  for (const policy of Object.keys(table).sort((a, b) => order.indexOf(a) - order.indexOf(b))) {
    for (const [b, f] of Object.entries(table[policy])) {
      const ran = Object.entries(f.ran_on)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      rows.push(
        `| ${policy} | ${b} | ${f.requests} | ${pct(f.attainment)} | ${pct(f.sim_attainment)} | ${num(f.accuracy)} | ${num(f.accuracy_in_budget)} | ${pct(f.edge_cost_rel)} | ${pct(f.prediction_error_median)} / ${pct(f.prediction_error_p90)} | ${pct(f.late_vs_p95)} | ${Math.round(f.latency_p50_ms)} / ${Math.round(f.latency_p90_ms)} | ${ran} | ${f.failures} | ${f.fallbacks} |`,
      );
    }
  }
  return rows.join('\n');
}

/** Each target of the replay, checked on the figures (true = met). */
export function targets(table: PolicyTable, fid: Fidelity): { target: string; met: boolean; detail: string }[] {
  const out: { target: string; met: boolean; detail: string }[] = [];
  const tandem = table['tandem'] ?? {};
  for (const [b, f] of Object.entries(tandem)) {
    out.push({ target: `prediction error median ≤ 15 % at ${b} ms`, met: f.prediction_error_median <= 0.15, detail: pct(f.prediction_error_median) });
    out.push({ target: `prediction error p90 ≤ 40 % at ${b} ms`, met: f.prediction_error_p90 <= 0.4, detail: pct(f.prediction_error_p90) });
    out.push({ target: `late vs p95 ≤ 10 % at ${b} ms`, met: f.late_vs_p95 !== null && f.late_vs_p95 <= 0.1, detail: pct(f.late_vs_p95) });
    for (const fixed of ['device', 'edge'] as ReplayPolicy[]) {
      const o = table[fixed]?.[b];
      if (!o) continue;
      out.push({
        target: `attainment ≥ ${fixed} at ${b} ms, at equal or better accuracy`,
        met: f.attainment >= o.attainment && f.accuracy >= o.accuracy - 1e-9,
        detail: `${pct(f.attainment)} vs ${pct(o.attainment)}, accuracy ${num(f.accuracy)} vs ${num(o.accuracy)}`,
      });
    }
  }
  out.push({
    target: '|sim − real| attainment ≤ 3 points at every budget and policy',
    met: fid.max_attainment_gap <= 0.03,
    detail: `max ${pct(fid.max_attainment_gap)}`,
  });
  return out;
}
