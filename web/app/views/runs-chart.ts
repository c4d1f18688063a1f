import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { RunRecord } from '../run-record';

/** How many requests the chart keeps. */
export const CHART_RUNS = 20;

export type RanWhere = 'phone' | 'edge' | 'both';

export interface ChartRun {
  seq: number;
  seconds: number;
  where: RanWhere;
  budgetSeconds: number;
  p95Seconds: number | null;
}

/** Where a finished request ran, as the chart colours it: lines read on both sides count as both. */
export function chartRun(r: RunRecord): ChartRun | null {
  if (!r.ok || r.ranOn === null) return null;
  const both = (r.split?.edgeLines ?? 0) > 0 && (r.split?.deviceLines ?? 0) > 0;
  return {
    seq: r.seq,
    seconds: r.wallMs / 1000,
    where: both ? 'both' : r.ranOn === 'device' ? 'phone' : 'edge',
    budgetSeconds: r.budgetMs / 1000,
    p95Seconds: r.predicted ? r.predicted.p95Ms / 1000 : null,
  };
}

/** Colours with ≥ 3:1 contrast against white, told apart by the legend's names too. */
const COLOURS: Record<RanWhere, string> = { phone: '#0f5e9c', edge: '#b45309', both: '#6d28d9' };
const LABELS: Record<RanWhere, string> = { phone: 'Phone', edge: 'Edge', both: 'Both' };

/**
 * The last requests as bars (time taken, coloured by where they ran), the time limit as a dashed line and the
 * planner's predicted 95th percentile as a mark. A "Best" limit far above every bar is left out of the scale.
 */
export class RunsChart {
  private runs: ChartRun[] = [];
  private plot: uPlot | undefined;

  constructor(
    private readonly container: HTMLElement,
    private readonly summary: HTMLElement,
  ) {}

  add(record: RunRecord): void {
    const run = chartRun(record);
    if (!run) return;
    this.runs = [...this.runs, run].slice(-CHART_RUNS);
    this.draw();
  }

  /** Redraws at the container's current width (after it was shown, or the screen turned). */
  draw(): void {
    const width = Math.max(240, Math.floor(this.container.clientWidth || 320));
    const data = this.data();
    this.summary.textContent = summaryText(this.runs);
    this.container.dataset.runs = String(this.runs.length);
    if (this.plot && this.plot.width === width) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    const bars = uPlot.paths.bars!({ size: [0.7, 24] });
    const barSeries = (where: RanWhere): uPlot.Series => ({
      label: LABELS[where],
      stroke: COLOURS[where],
      fill: COLOURS[where],
      paths: bars,
      points: { show: false },
    });
    this.plot = new uPlot(
      {
        width,
        height: 170,
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(0.5, max * 1.1)] } },
        axes: [
          { label: 'request', size: 36, values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')) },
          { label: 'seconds', size: 44 },
        ],
        cursor: { show: false },
        legend: { live: false },
        series: [
          {},
          barSeries('phone'),
          barSeries('edge'),
          barSeries('both'),
          { label: 'Time limit', stroke: '#17212b', dash: [5, 4], width: 1.5, points: { show: true, size: 4, fill: '#17212b' } },
          { label: 'Predicted p95', stroke: '#17212b', paths: () => null, points: { show: true, size: 7, width: 2, fill: '#ffffff', stroke: '#17212b' } },
        ],
      },
      data,
      this.container,
    );
  }

  private data(): uPlot.AlignedData {
    const xs = this.runs.map((r) => r.seq + 1);
    const top = Math.max(0.5, ...this.runs.map((r) => r.seconds), ...this.runs.map((r) => r.p95Seconds ?? 0));
    const of = (where: RanWhere) => this.runs.map((r) => (r.where === where ? r.seconds : null));
    return [
      xs,
      of('phone'),
      of('edge'),
      of('both'),
      this.runs.map((r) => (r.budgetSeconds > 10 * top ? null : r.budgetSeconds)),
      this.runs.map((r) => r.p95Seconds),
    ];
  }
}

/** The chart in words, for screen readers and for a glance. */
export function summaryText(runs: readonly ChartRun[]): string {
  if (runs.length === 0) return 'No requests yet.';
  const count = (w: RanWhere) => runs.filter((r) => r.where === w).length;
  const within = runs.filter((r) => r.seconds <= r.budgetSeconds).length;
  const where = (['phone', 'edge', 'both'] as const)
    .filter((w) => count(w) > 0)
    .map((w) => `${count(w)} ${w === 'phone' ? 'on this phone' : w === 'edge' ? 'on the edge' : 'on both'}`);
  return `Last ${runs.length} request${runs.length === 1 ? '' : 's'}: ${where.join(', ')}; ${within} within the time limit.`;
}
