/** SVG plots of a replay through Vega-Lite (rendered headless by Vega, no canvas or browser needed). */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Report } from './report';
import { quantile } from './report';
import type { SimResult } from './simulate';

export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** SLO attainment against the budget, one line per policy. */
export function attainmentSvg(report: Report): Promise<string> {
  const values = Object.entries(report.policies).flatMap(([policy, byBudget]) =>
    Object.entries(byBudget).map(([budget, f]) => ({ policy, budget: Number(budget), attainment: f.attainment })),
  );
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `SLO attainment by budget (${report.profile_kind === 'example' ? 'example profile, not measured' : 'measured profile'})`,
    width: 480,
    height: 300,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'budget', type: 'quantitative', scale: { type: 'log' }, title: 'budget (ms)' },
      y: { field: 'attainment', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' }, title: 'requests within budget' },
      color: { field: 'policy', type: 'nominal' },
    },
  });
}

/** End-to-end latency CDF per policy, one panel per budget (100 quantiles per line). */
export function latencyCdfSvg(result: SimResult, report: Report): Promise<string> {
  const values: { policy: string; budget: number; latency: number; share: number }[] = [];
  for (const [policy, byBudget] of result.records) {
    for (const [budget, rs] of byBudget) {
      const lat = rs.map((r) => r.totalMs);
      for (let q = 1; q <= 100; q++) values.push({ policy, budget, latency: Math.max(1, quantile(lat, q / 100)), share: q / 100 });
    }
  }
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `End-to-end latency CDF (${report.profile_kind === 'example' ? 'example profile, not measured' : 'measured profile'})`,
    data: { values },
    facet: { column: { field: 'budget', type: 'ordinal', title: 'budget (ms)' } },
    spec: {
      width: 220,
      height: 220,
      mark: 'line',
      encoding: {
        x: { field: 'latency', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms)' },
        y: { field: 'share', type: 'quantitative', axis: { format: '%' }, title: 'requests' },
        color: { field: 'policy', type: 'nominal' },
      },
    },
  });
}
