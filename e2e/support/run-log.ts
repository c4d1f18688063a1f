import type { RunRecord } from '../../web/app/run-record';

/**
 * One request as a flow's log shows it: where it ran and why, its prediction against what it took, stage by stage,
 * and the plan predicted to read the most of the photo.
 */
export function describeRun(record: RunRecord): { line: string; detail: string } {
  const p = record.predicted;
  const line = `${record.planId} on ${record.ranOn} in ${Math.round(record.wallMs)} ms (predicted ${Math.round(p?.expectedMs ?? NaN)}, p95 ${Math.round(p?.p95Ms ?? NaN)}, ${record.reason}/${record.why}${record.constraints.length ? `; constraints ${record.constraints.join(',')}` : ''})${record.error ? ` error ${record.error.code}` : ''}`;
  const stages = (list: [string, number][]) => list.map(([k, v]) => `${k} ${Math.round(v)}`).join(', ');
  const predicted = stages((p?.stages ?? []).map((x) => [`${x.branch === 'main' ? '' : `${x.branch}:`}${x.stage}`, x.expectedMs]));
  const best = p?.mostAccurate ? ` most accurate ${p.mostAccurate.planId} (${Math.round(p.mostAccurate.expectedMs)}/${Math.round(p.mostAccurate.p95Ms)})` : '';
  const failures = [record.fellBack && `fell back: ${record.fellBack}`, record.retried && `retried: ${record.retried}`].filter(Boolean).join(' ');
  const detail = `lines ${p ? Math.round(p.lines) : '?'}; predicted [${predicted}] measured [${stages(Object.entries(record.measuredStages))}]${best}${failures ? ` ${failures}` : ''}`;
  return { line, detail };
}
