/** SVG plots of a replay, rendered by Vega-Lite like the simulator's. */
import { quantile } from '../sim/report';
import { toSvg } from '../sim/plots';
import type { PolicyTable } from './report';
import type { ReplayRecord } from './session';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** The planner's predicted time of the whole request against the measured one, log axes, one colour per policy. */
export function predictedVsMeasuredSvg(records: readonly ReplayRecord[]): Promise<string> {
  const values = records
    .filter((r) => r.failure === null && Number.isFinite(r.predictedP50Ms) && r.predictedP50Ms > 0)
    .map((r) => ({ policy: r.policy, predicted: r.predictedP50Ms, measured: Math.max(1, r.totalMs), budget: r.budgetMs }));
  const lo = Math.max(1, Math.min(...values.map((v) => Math.min(v.predicted, v.measured))));
  const hi = Math.max(...values.map((v) => Math.max(v.predicted, v.measured)));
  return toSvg({
    $schema: SCHEMA,
    title: 'Predicted vs measured time of the whole request (real browser)',
    width: 420,
    height: 420,
    layer: [
      {
        data: {
          values: [
            { x: lo, y: lo },
            { x: hi, y: hi },
          ],
        },
        mark: { type: 'line', color: '#999', strokeDash: [4, 4] },
        encoding: { x: { field: 'x', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'y', type: 'quantitative', scale: { type: 'log' } } },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, opacity: 0.7 },
        encoding: {
          x: { field: 'predicted', type: 'quantitative', scale: { type: 'log' }, title: 'predicted (ms)' },
          y: { field: 'measured', type: 'quantitative', scale: { type: 'log' }, title: 'measured (ms)' },
          color: { field: 'policy', type: 'nominal' },
          shape: { field: 'budget', type: 'ordinal' },
        },
      },
    ],
  });
}

/** Attainment per budget, real against simulated, one panel per policy. */
export function attainmentRealVsSimSvg(table: PolicyTable): Promise<string> {
  const values = Object.entries(table).flatMap(([policy, byBudget]) =>
    Object.entries(byBudget).flatMap(([b, f]) => [
      { policy, budget: Number(b), attainment: f.attainment, source: 'real browser' },
      ...(f.sim_attainment === null ? [] : [{ policy, budget: Number(b), attainment: f.sim_attainment, source: 'simulator' }]),
    ]),
  );
  return toSvg({
    $schema: SCHEMA,
    title: 'Requests within budget: real browser vs simulator on the same requests',
    data: { values },
    facet: { column: { field: 'policy', type: 'nominal' } },
    spec: {
      width: 160,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'budget', type: 'quantitative', scale: { type: 'log' }, title: 'budget (ms)' },
        y: { field: 'attainment', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' }, title: 'within budget' },
        color: { field: 'source', type: 'nominal' },
      },
    },
  });
}

/** Latency CDF per policy (real browser), one panel per budget. */
export function latencyCdfSvg(records: readonly ReplayRecord[]): Promise<string> {
  const groups = new Map<string, number[]>();
  for (const r of records) {
    const key = `${r.policy}|${r.budgetMs}`;
    // A failure is as late as it gets for the user: it sits at the right end of the curve.
    groups.set(key, [...(groups.get(key) ?? []), r.failure === null ? Math.max(1, r.totalMs) : 120_000]);
  }
  const values: { policy: string; budget: number; latency: number; share: number }[] = [];
  for (const [key, lat] of groups) {
    const [policy, budget] = key.split('|');
    for (let q = 1; q <= 50; q++) values.push({ policy, budget: Number(budget), latency: quantile(lat, q / 50), share: q / 50 });
  }
  return toSvg({
    $schema: SCHEMA,
    title: 'Latency CDF per policy (real browser)',
    data: { values },
    facet: { column: { field: 'budget', type: 'ordinal', title: 'budget (ms)' } },
    spec: {
      width: 200,
      height: 200,
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'latency', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms)' },
        y: { field: 'share', type: 'quantitative', axis: { format: '%' }, title: 'requests' },
        color: { field: 'policy', type: 'nominal' },
      },
    },
  });
}
