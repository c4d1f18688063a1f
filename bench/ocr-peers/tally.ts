/** Per-runner word counts and wall times, folded into the figures the bench prints and writes. */
import { percentile } from '../eval-ocr/metrics';

export interface RunnerFigures {
  word_recall: number;
  per_dataset: Record<string, { word_recall: number; words: number; images: number }>;
  ms_p50: number;
  ms_p90: number;
  images: number;
}

export class Tally {
  private readonly ms: number[] = [];
  private readonly words: Record<string, { found: number; total: number; images: number }> = {};

  add(dataset: string, found: number, total: number, ms: number): void {
    const w = (this.words[dataset] ??= { found: 0, total: 0, images: 0 });
    w.found += found;
    w.total += total;
    w.images++;
    this.ms.push(ms);
  }

  figures(): RunnerFigures {
    const all = Object.values(this.words).reduce((a, w) => ({ found: a.found + w.found, total: a.total + w.total }), { found: 0, total: 0 });
    return {
      word_recall: all.found / Math.max(1, all.total),
      per_dataset: Object.fromEntries(
        Object.entries(this.words).map(([ds, w]) => [ds, { word_recall: w.found / Math.max(1, w.total), words: w.total, images: w.images }]),
      ),
      ms_p50: this.ms.length ? percentile(this.ms, 0.5) : NaN,
      ms_p90: this.ms.length ? percentile(this.ms, 0.9) : NaN,
      images: this.ms.length,
    };
  }
}

/** Runners in the order given; every dataset any runner saw gets a column. */
export function markdownTable(runners: Record<string, RunnerFigures>): string {
  const datasets = [...new Set(Object.values(runners).flatMap((r) => Object.keys(r.per_dataset)))].sort();
  const head = ['runner', 'word recall', ...datasets, 'ms/image p50', 'p90', 'images'];
  const rows = Object.entries(runners).map(([name, r]) => [
    name,
    r.word_recall.toFixed(3),
    ...datasets.map((ds) => r.per_dataset[ds]?.word_recall.toFixed(3) ?? '-'),
    r.ms_p50.toFixed(0),
    r.ms_p90.toFixed(0),
    String(r.images),
  ]);
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/**
 * The goal: at least the best peer's word recall at half its p50 time per image. Best peer = highest recall
 * (ties: faster p50).
 */
export function meetsGoal(ours: RunnerFigures, peers: RunnerFigures[]): { best: RunnerFigures; accuracy: boolean; speed: boolean } | null {
  const best = [...peers].sort((a, b) => b.word_recall - a.word_recall || a.ms_p50 - b.ms_p50)[0];
  if (!best) return null;
  return { best, accuracy: ours.word_recall >= best.word_recall, speed: ours.ms_p50 <= best.ms_p50 / 2 };
}
