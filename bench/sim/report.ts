/**
 * Figures from the replay: per policy and budget, SLO attainment, mean accuracy, edge cost relative to always-edge,
 * cellular bytes and the policy's own prediction MAPE; preprocessing-placement F1 against the oracle; speed-up of
 * concurrent plans; and the issue's targets checked on the budgets where the oracle meets ≥ 99.5 %.
 */
import { ORACLE, type RequestRecord, SIM_POLICIES, type SimPolicy, type SimResult } from './simulate';

export interface PolicyBudgetFigures {
  attainment: number;
  accuracy: number;
  /** Mean word recall counting an answer after the budget as nothing (what a user who waits no longer gets). */
  accuracy_in_budget: number;
  edge_cost_rel: number | null;
  cellular_bytes: number;
  prediction_mape: number | null;
  prediction_median_ape: number | null;
  requests: number;
  /** Of the answers the policy predicted to fit (p95 ≤ budget), the share that came later than that p95 (5 % if calibrated). */
  late_vs_p95: number | null;
  p50_ms: number;
  p95_ms: number;
  preprocess_f1: number | null;
}

export interface F1 {
  f1: number | null;
  precision: number | null;
  recall: number | null;
  /** Requests compared. */
  n: number;
}

export interface Report {
  policies: Record<string, Record<string, PolicyBudgetFigures>>;
  oracle_name: typeof ORACLE;
  preprocess_f1: number | null;
  /** Against the oracle's placement for the same request and configuration (the headline figure). */
  preprocess_f1_detail: Record<string, F1>;
  /** PieSlicer's own criterion: the decision against whichever placement was faster in hindsight. */
  preprocess_f1_latency: Record<string, F1>;
  /** Narrower: only requests where the oracle's own plan also uploads the whole image. */
  preprocess_f1_both_upload: Record<string, F1>;
  /**
   * Tandem's disagreements with the oracle placement, and the share of them where uploading the original took
   * within ±25 % of the budget in hindsight (a decision at the margin, where a p95 prediction cannot be sure).
   */
  preprocess_disagreements: { n: number; near_budget_share: number | null };
  concurrency_speedup_median: number | null;
  concurrency_speedup_n: number;
  concurrency_speedup_by_kind: Record<string, { median: number | null; n: number }>;
  concurrency_potential_speedup_median: number | null;
  profile_kind: 'example' | 'measured';
  profile_description: string;
  budgets_ms: number[];
  oracle_reliable_budgets_ms: number[];
  targets: TargetCheck[];
  plan_mix: Record<string, Record<string, Record<string, number>>>;
  /**
   * Attainment per policy and budget on links whose uplink was measured, apart from links whose uplink is their
   * downlink at a ratio (no uplink trace): the second group's uplink is a guess.
   */
  by_uplink: Record<UplinkGroup, { links: number; requests: number; attainment: Record<string, Record<string, number | null>> }>;
  plan_space: SimResult['planSpace'];
  run: Record<string, unknown>;
}

export type UplinkGroup = 'measured' | 'derived';

export interface TargetCheck {
  budget_ms: number;
  /** The oracle meets ≥ 99.5 % at this budget: where the issue's targets apply. */
  oracle_reliable: boolean;
  target: string;
  value: number | null;
  goal: string;
  met: boolean;
}

function mean(xs: number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/**
 * Preprocessing placement (positive: resized and re-encoded on the device; negative: original uploaded, prepared on
 * the edge) on every request where the policy uploads the whole image, against the oracle's placement for that
 * request and configuration in hindsight.
 */
function f1Of(policy: RequestRecord[]): F1 {
  return f1From(policy.map((r) => [r.preprocessOnDevice, r.preprocessOracle]));
}

/** The same decisions against the oracle's own plan, where that plan uploads the whole image too. */
function f1BothUpload(policy: RequestRecord[], oracle: RequestRecord[]): F1 {
  return f1From(policy.map((r, i) => [r.preprocessOnDevice, oracle[i].preprocessOnDevice]));
}

/** Device preprocessing decisions against the faster placement in hindsight (same configuration). */
function f1Latency(policy: RequestRecord[]): F1 {
  return f1From(policy.map((r) => [r.preprocessOnDevice, r.preprocessFaster]));
}

function f1From(pairs: [boolean | null, boolean | null][]): F1 {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const [p, o] of pairs) {
    if (p === null || o === null) continue;
    if (p && o) tp++;
    else if (p && !o) fp++;
    else if (!p && o) fn++;
    else tn++;
  }
  const n = tp + fp + fn + tn;
  const precision = tp + fp > 0 ? tp / (tp + fp) : null;
  const recall = tp + fn > 0 ? tp / (tp + fn) : null;
  // Both classes absent from the positives: every decision agreed on "upload the original".
  const f1 = n === 0 ? null : tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
  return { f1, precision, recall, n };
}

const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

function lateShare(rs: RequestRecord[]): number | null {
  let fit = 0;
  let late = 0;
  for (const r of rs) {
    if (!r.predictedFits || !Number.isFinite(r.predictedP95Ms)) continue;
    fit++;
    if (r.totalMs > r.predictedP95Ms) late++;
  }
  return fit > 0 ? late / fit : null;
}

export function buildReport(
  result: SimResult,
  meta: { profileKind: 'example' | 'measured'; profileDescription: string; budgets: number[]; run: Record<string, unknown> },
): Report {
  const { records } = result;
  const oracle = records.get(ORACLE)!;
  const edge = records.get('edge')!;
  const policies: Report['policies'] = {};
  const planMix: Report['plan_mix'] = {};
  const all: SimPolicy[] = [...SIM_POLICIES, ORACLE];
  for (const p of all) {
    policies[p] = {};
    planMix[p] = {};
    for (const b of meta.budgets) {
      const rs = records.get(p)!.get(b)!;
      const edgeTotal = edge.get(b)!.reduce((s, r) => s + r.edgeMs, 0);
      const apes = rs.map((r) => r.policyApe).filter((x) => Number.isFinite(x));
      const f1 = f1Of(rs);
      const lat = rs.map((r) => r.totalMs);
      policies[p][String(b)] = {
        attainment: rs.length ? rs.filter((r) => r.met).length / rs.length : 0,
        accuracy: mean(rs.map((r) => r.accuracy)),
        accuracy_in_budget: mean(rs.map((r) => (r.met ? r.accuracy : 0))),
        edge_cost_rel: edgeTotal > 0 ? rs.reduce((s, r) => s + r.edgeMs, 0) / edgeTotal : null,
        cellular_bytes: rs.reduce((s, r) => s + r.cellularBytes, 0),
        prediction_mape: p === ORACLE ? null : num(mean(apes)),
        prediction_median_ape: p === ORACLE ? null : num(quantile(apes, 0.5)),
        requests: rs.length,
        late_vs_p95: p === ORACLE ? null : lateShare(rs),
        p50_ms: quantile(lat, 0.5),
        p95_ms: quantile(lat, 0.95),
        preprocess_f1: p === ORACLE ? null : f1.f1,
      };
      const mix: Record<string, number> = {};
      for (const r of rs) {
        const k = r.kind === 'edge' ? `edge${r.race ? '+race' : ''}:${r.preprocessOnDevice ? 'reencode' : 'original'}` : r.kind;
        mix[k] = (mix[k] ?? 0) + 1 / rs.length;
      }
      planMix[p][String(b)] = mix;
    }
  }

  const reliable = meta.budgets.filter((b) => policies[ORACLE][String(b)].attainment >= 0.995);
  const pooled = (p: SimPolicy, budgets: number[]) => budgets.flatMap((b) => records.get(p)!.get(b)!);
  const detail: Record<string, F1> = {};
  const f1Budgets = reliable.length > 0 ? reliable : meta.budgets;
  const bothUpload: Record<string, F1> = {};
  for (const p of SIM_POLICIES) {
    detail[p] = f1Of(pooled(p, f1Budgets));
    bothUpload[p] = f1BothUpload(pooled(p, f1Budgets), pooled(ORACLE, f1Budgets));
  }
  let disagree = 0;
  let nearBudget = 0;
  for (const b of f1Budgets) {
    for (const r of records.get('tandem')!.get(b)!) {
      if (r.preprocessOnDevice === null || r.preprocessOracle === null || r.preprocessOnDevice === r.preprocessOracle) continue;
      disagree++;
      if (r.preprocessOriginalMs !== null && Math.abs(r.preprocessOriginalMs - b) <= 0.25 * b) nearBudget++;
    }
  }
  const latencyF1: Record<string, F1> = {};
  for (const p of [...SIM_POLICIES, ORACLE] as SimPolicy[]) latencyF1[p] = f1Latency(pooled(p, f1Budgets));
  const tandemAll = pooled('tandem', meta.budgets);
  const byKind: Report['concurrency_speedup_by_kind'] = {};
  for (const [k, pred] of [
    ['split-rec', (r: RequestRecord) => r.kind === 'split-rec'],
    ['race', (r: RequestRecord) => r.race],
  ] as const) {
    const xs = tandemAll
      .filter(pred)
      .map((r) => r.concurrencySpeedup)
      .filter((x): x is number => x !== null);
    byKind[k] = { median: num(quantile(xs, 0.5)), n: xs.length };
  }

  const speedups = pooled('tandem', meta.budgets)
    .map((r) => r.concurrencySpeedup)
    .filter((x): x is number => x !== null);

  const targets: TargetCheck[] = [];
  for (const b of meta.budgets) {
    const t = policies.tandem[String(b)];
    const o = policies[ORACLE][String(b)];
    const lc = policies.layercake[String(b)];
    const ps = policies.pieslicer[String(b)];
    const oracle_reliable = reliable.includes(b);
    const push = (target: string, value: number | null, goal: string, met: boolean) =>
      targets.push({ budget_ms: b, oracle_reliable, target, value, goal, met });
    push('tandem attainment', t.attainment, '≥ 0.99', t.attainment >= 0.99);
    const accRel = o.accuracy > 0 ? t.accuracy / o.accuracy : NaN;
    push('tandem accuracy / oracle accuracy', num(accRel), '≥ 0.98', accRel >= 0.98);
    push('tandem edge cost / always-edge', t.edge_cost_rel, '≤ 0.30', t.edge_cost_rel !== null && t.edge_cost_rel <= 0.3);
    push('tandem preprocessing F1 vs oracle', t.preprocess_f1, '≥ 0.99', t.preprocess_f1 !== null && t.preprocess_f1 >= 0.99);
    for (const [name, x] of [
      ['layercake', lc],
      ['pieslicer', ps],
    ] as const) {
      const ahead = t.attainment > x.attainment && t.accuracy >= x.accuracy - 1e-9;
      push(`tandem ahead of ${name} (attainment, at ≥ accuracy)`, t.attainment - x.attainment, `> 0 and accuracy ≥ ${x.accuracy.toFixed(3)}`, ahead);
    }
  }

  const byUplink = {} as Report['by_uplink'];
  for (const group of ['measured', 'derived'] as const) {
    const inGroup = (trace: string) => (result.upDerived[trace] === true) === (group === 'derived');
    const attainment: Record<string, Record<string, number | null>> = {};
    let requests = 0;
    for (const p of all) {
      attainment[p] = {};
      for (const b of meta.budgets) {
        const rs = records
          .get(p)!
          .get(b)!
          .filter((r) => inGroup(r.trace));
        requests = rs.length;
        attainment[p][String(b)] = rs.length ? rs.filter((r) => r.met).length / rs.length : null;
      }
    }
    byUplink[group] = { links: Object.keys(result.upDerived).filter(inGroup).length, requests, attainment };
  }

  return {
    policies,
    oracle_name: ORACLE,
    preprocess_f1: detail.tandem.f1,
    preprocess_f1_detail: detail,
    preprocess_f1_latency: latencyF1,
    preprocess_f1_both_upload: bothUpload,
    preprocess_disagreements: { n: disagree, near_budget_share: disagree > 0 ? nearBudget / disagree : null },
    concurrency_speedup_median: num(quantile(speedups, 0.5)),
    concurrency_speedup_n: speedups.length,
    concurrency_speedup_by_kind: byKind,
    concurrency_potential_speedup_median: num(quantile(result.potentialSpeedups, 0.5)),
    profile_kind: meta.profileKind,
    profile_description: meta.profileDescription,
    budgets_ms: meta.budgets,
    oracle_reliable_budgets_ms: reliable,
    targets,
    plan_mix: planMix,
    by_uplink: byUplink,
    plan_space: result.planSpace,
    run: meta.run,
  };
}

const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)} %`);
const fix = (x: number | null, d = 3) => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(d));
const mb = (x: number) => `${(x / 1e6).toFixed(1)} MB`;

export function markdown(r: Report): string {
  const out: string[] = [];
  if (r.profile_kind === 'example') {
    out.push(
      '> **Example profile, not measured**: compute latencies and accuracies are drawn from the built-in example profiles (' + r.profile_description + ').',
      '',
    );
  } else out.push(`Profiles: measured (${r.profile_description}).`, '');
  const run = r.run;
  out.push(
    `Traces: ${String(run.traces)} · requests per policy and budget: ${String(run.requests)} · images: ${String(run.images)} (word recall per photo measured for ${String(run.images_with_measured_recall ?? 0)}, the others at their configuration's) · seed ${String(run.seed)} · NetInfo: ${String(run.netinfo ?? 'none')}`,
    '',
    `Compute drawn from: device \`${String(run.device_runtime)}\`, edge \`${String(run.edge_runtime)}\` · uplink probe on joining a link: ${String(run.uplink_probe_bytes)} B · /v1/status every ${String(run.status_poll_ms)} ms`,
    '',
    `Plan space: ${r.plan_space.kind === 'page' ? `the page's (${r.plan_space.variant === null ? 'every device variant set' : `device variant ${r.plan_space.variant}`}, no split detection)` : 'every profiled configuration and split-detection cut'}, ${r.plan_space.plans} plans · decisions see only outcomes completed before them`,
    '',
    '| policy | budget ms | attainment | accuracy | accuracy in budget | edge cost vs always-edge | cellular bytes | prediction MAPE (median APE) | preprocess F1 vs oracle | p50 ms | p95 ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const [p, byBudget] of Object.entries(r.policies)) {
    for (const b of r.budgets_ms) {
      const f = byBudget[String(b)];
      out.push(
        `| ${p} | ${b} | ${pct(f.attainment)} | ${fix(f.accuracy)} | ${fix(f.accuracy_in_budget)} | ${pct(f.edge_cost_rel)} | ${mb(f.cellular_bytes)} | ${pct(f.prediction_mape)} (${pct(f.prediction_median_ape)}) | ${fix(f.preprocess_f1)} | ${f.p50_ms.toFixed(0)} | ${f.p95_ms.toFixed(0)} |`,
      );
    }
  }
  out.push(
    '',
    `Preprocessing-placement F1 (positive: prepared on the device; requests where the policy uploads the whole image; budgets ${r.oracle_reliable_budgets_ms.length ? r.oracle_reliable_budgets_ms.join(', ') : 'all'}):`,
    '',
  );
  out.push(
    '| policy | F1 vs oracle placement | precision | recall | n | F1 vs faster placement | n | F1 vs oracle plan, where it uploads too | n |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  const none: F1 = { f1: null, precision: null, recall: null, n: 0 };
  for (const [p, lat] of Object.entries(r.preprocess_f1_latency)) {
    const f = r.preprocess_f1_detail[p] ?? none;
    const both = r.preprocess_f1_both_upload[p] ?? none;
    out.push(`| ${p} | ${fix(f.f1)} | ${fix(f.precision)} | ${fix(f.recall)} | ${f.n} | ${fix(lat.f1)} | ${lat.n} | ${fix(both.f1)} | ${both.n} |`);
  }
  const dis = r.preprocess_disagreements;
  out.push(
    '',
    `Tandem disagrees with the oracle placement on ${dis.n} of these requests; on ${pct(dis.near_budget_share)} of them uploading the original took within ±25 % of the budget in hindsight.`,
  );
  out.push(
    '',
    `Concurrent plans chosen by Tandem (split recognition, races whose device run started): ${r.concurrency_speedup_n}; median speed-up over the best single location (same configuration, in hindsight): ${fix(r.concurrency_speedup_median, 2)}× (split recognition ${fix(r.concurrency_speedup_by_kind['split-rec'].median, 2)}× over ${r.concurrency_speedup_by_kind['split-rec'].n}; races ${fix(r.concurrency_speedup_by_kind.race.median, 2)}× over ${r.concurrency_speedup_by_kind.race.n}).`,
    `In hindsight, fastest split-recognition plan vs fastest single-location plan, median over all requests: ${fix(r.concurrency_potential_speedup_median, 2)}×.`,
    '',
  );
  if (r.oracle_reliable_budgets_ms.length === 0)
    out.push('No budget where the oracle meets ≥ 99.5 %: the targets apply nowhere; shown at every budget for reference.');
  else out.push(`Targets apply on budgets where the oracle meets ≥ 99.5 % (${r.oracle_reliable_budgets_ms.join(', ')} ms); shown at every budget.`);
  out.push('', '| budget ms | oracle ≥ 99.5 % | target | value | goal | met |', '|---:|---|---|---:|---|---|');
  for (const t of r.targets)
    out.push(`| ${t.budget_ms} | ${t.oracle_reliable ? 'yes' : 'no'} | ${t.target} | ${fix(t.value)} | ${t.goal} | ${t.met ? 'yes' : '**no**'} |`);
  out.push(
    '',
    `Calibration (answers later than their predicted p95, among those predicted to fit): ${SIM_POLICIES.map((p) => `${p} ${r.budgets_ms.map((b) => pct(r.policies[p][String(b)].late_vs_p95)).join(' / ')}`).join('; ')} (budgets ${r.budgets_ms.join(' / ')} ms).`,
  );
  const m = r.by_uplink.measured;
  const d = r.by_uplink.derived;
  out.push(
    '',
    `Attainment by uplink: measured (${m.links} links, ${m.requests} requests per policy and budget) and derived from the downlink at the up-ratio (${d.links} links, ${d.requests} requests):`,
    '',
    '| policy | budget ms | measured uplink | uplink from downlink |',
    '|---|---:|---:|---:|',
  );
  for (const p of Object.keys(r.policies))
    for (const b of r.budgets_ms) out.push(`| ${p} | ${b} | ${pct(m.attainment[p][String(b)])} | ${pct(d.attainment[p][String(b)])} |`);
  out.push('', 'Plan mix (share of requests):', '', '| policy | budget ms | plans |', '|---|---:|---|');
  for (const [p, byBudget] of Object.entries(r.plan_mix)) {
    for (const b of r.budgets_ms) {
      const mix = Object.entries(byBudget[String(b)])
        .sort((x, y) => y[1] - x[1])
        .map(([k, v]) => `${k} ${(100 * v).toFixed(0)} %`)
        .join(', ');
      out.push(`| ${p} | ${b} | ${mix} |`);
    }
  }
  return out.join('\n') + '\n';
}
