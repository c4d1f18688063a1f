/** Runs one placement over a set and scores detection, recognition and end-to-end words. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRgba, type DetRow, type RecRow } from './dataset';
import { addCounts, detScores, editDistance, matchDetections, normalizeWord, percentile, wordRecall, type DetCounts } from './metrics';
import type { Runner } from './runners';

export interface DatasetScores {
  images?: number;
  det_hmean?: number;
  det_precision?: number;
  det_recall?: number;
  e2e_word_recall?: number;
  words?: number;
  crops?: number;
  rec_word_acc?: number;
  cer?: number;
}

export interface PathScores {
  det_hmean: number | null;
  det_precision: number | null;
  det_recall: number | null;
  rec_word_acc: number | null;
  cer: number | null;
  e2e_word_recall: number | null;
  ms_p50: number | null;
  ms_p90: number | null;
  /** Process CPU time per image (all runtime threads): steadier than wall time on a shared machine; null for a remote server. */
  cpu_ms_p50: number | null;
  /** Median of each pipeline stage as the runtime reported it (server-side for a remote server). */
  stage_ms_p50: Record<string, number>;
  images: number;
  crops: number;
  runtime: string;
  per_dataset: Record<string, DatasetScores>;
}

const EMPTY: DetCounts = { gt: 0, gtMatched: 0, pred: 0, predMatched: 0 };

export async function evaluate(runner: Runner, setDir: string, det: DetRow[], rec: RecRow[], log: (s: string) => void): Promise<PathScores> {
  const per: Record<string, DatasetScores> = {};
  const counts: Record<string, DetCounts> = {};
  const words: Record<string, { found: number; total: number }> = {};
  const ms: number[] = [];
  const cpu: number[] = [];
  const stages: Record<string, number[]> = {};

  if (det.length) {
    // One untimed run so session warm-up and first-shape allocation do not land on the first image.
    await runner.ocr(join(setDir, det[0].image));
  }
  for (const [i, row] of det.entries()) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const res = await runner.ocr(join(setDir, row.image));
    const used = process.cpuUsage(c0);
    ms.push(performance.now() - t0);
    cpu.push((used.user + used.system) / 1000);
    for (const [k, v] of Object.entries(res.timings ?? {})) if (typeof v === 'number') (stages[k] ??= []).push(v);
    const c = matchDetections(
      res.lines.map((l) => l.box),
      row.boxes,
    );
    counts[row.dataset] = addCounts(counts[row.dataset] ?? EMPTY, c);
    const w = wordRecall(
      row.boxes,
      res.lines.map((l) => l.text),
    );
    const acc = (words[row.dataset] ??= { found: 0, total: 0 });
    acc.found += w.found;
    acc.total += w.total;
    (per[row.dataset] ??= {}).images = (per[row.dataset].images ?? 0) + 1;
    if ((i + 1) % 20 === 0) log(`  ${runner.name}: ${i + 1}/${det.length} images`);
  }
  for (const [ds, c] of Object.entries(counts)) {
    const s = detScores(c);
    Object.assign(per[ds], {
      det_hmean: s.hmean,
      det_precision: s.precision,
      det_recall: s.recall,
      e2e_word_recall: words[ds].found / Math.max(1, words[ds].total),
      words: words[ds].total,
    });
  }

  const recStats: Record<string, { n: number; correct: number; edits: number; chars: number }> = {};
  if (runner.pipeline && rec.length) {
    const chunk = 60;
    for (let start = 0; start < rec.length; start += chunk) {
      const rows = rec.slice(start, start + chunk);
      const crops = await Promise.all(rows.map((r) => decodeRgba(readFileSync(join(setDir, r.image)))));
      const out = await runner.pipeline.recognize(crops, { useCls: runner.runOptions.useCls });
      rows.forEach((r, j) => {
        const want = normalizeWord(r.text);
        const got = normalizeWord(out.texts[j].text);
        const s = (recStats[r.dataset] ??= { n: 0, correct: 0, edits: 0, chars: 0 });
        s.n++;
        if (got === want) s.correct++;
        s.edits += editDistance(got, want);
        s.chars += [...want].length;
      });
      log(`  ${runner.name}: ${Math.min(start + chunk, rec.length)}/${rec.length} crops`);
    }
    for (const [ds, s] of Object.entries(recStats)) {
      Object.assign((per[ds] ??= {}), { crops: s.n, rec_word_acc: s.correct / s.n, cer: s.edits / Math.max(1, s.chars) });
    }
  }

  const detAll = Object.values(counts).reduce(addCounts, EMPTY);
  const wordsAll = Object.values(words).reduce((a, w) => ({ found: a.found + w.found, total: a.total + w.total }), { found: 0, total: 0 });
  const recAll = Object.values(recStats).reduce(
    (a, s) => ({ n: a.n + s.n, correct: a.correct + s.correct, edits: a.edits + s.edits, chars: a.chars + s.chars }),
    { n: 0, correct: 0, edits: 0, chars: 0 },
  );
  const d = det.length ? detScores(detAll) : null;
  return {
    det_hmean: d?.hmean ?? null,
    det_precision: d?.precision ?? null,
    det_recall: d?.recall ?? null,
    rec_word_acc: recAll.n ? recAll.correct / recAll.n : null,
    cer: recAll.n ? recAll.edits / Math.max(1, recAll.chars) : null,
    e2e_word_recall: det.length ? wordsAll.found / Math.max(1, wordsAll.total) : null,
    ms_p50: ms.length ? percentile(ms, 0.5) : null,
    ms_p90: ms.length ? percentile(ms, 0.9) : null,
    cpu_ms_p50: ms.length && runner.pipeline ? percentile(cpu, 0.5) : null,
    stage_ms_p50: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, Math.round(percentile(v, 0.5) * 10) / 10])),
    images: det.length,
    crops: recAll.n,
    runtime: runner.describe,
    per_dataset: per,
  };
}
