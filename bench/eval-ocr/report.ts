/** Plain-text table of evaluation scores. */
import type { PathScores } from './evaluate';

const f = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? '-' : v.toFixed(digits));

export function formatTable(results: Partial<Record<string, PathScores>>): string {
  const head = ['path', 'dataset', 'det P', 'det R', 'det H', 'e2e words', 'rec acc', 'CER', 'ms p50', 'ms p90', 'cpu p50'];
  const rows: string[][] = [];
  for (const [path, r] of Object.entries(results)) {
    if (!r) continue;
    rows.push([
      path,
      'all',
      f(r.det_precision),
      f(r.det_recall),
      f(r.det_hmean),
      f(r.e2e_word_recall),
      f(r.rec_word_acc),
      f(r.cer),
      f(r.ms_p50, 0),
      f(r.ms_p90, 0),
      f(r.cpu_ms_p50, 0),
    ]);
    for (const [ds, d] of Object.entries(r.per_dataset)) {
      rows.push(['', ds, f(d.det_precision), f(d.det_recall), f(d.det_hmean), f(d.e2e_word_recall), f(d.rec_word_acc), f(d.cer), '', '', '']);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
