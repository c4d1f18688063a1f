/**
 * Word recall of every dev photo at every detector side, for fitting the planner's per-photo recall
 * (core/placement/estimators/recall.ts). The set-wide recall per side in profiles.json is a mean over receipts and
 * street scenes alike; what a photo loses at a small side depends on how small its text is in the detector's input.
 *
 *   npm run eval:photo-recall -- [--set DIR] [--sides 320,480,640,800,960] [--limit N] [--out FILE]
 *
 * Runs core/ocr with onnxruntime-node in-process (fp32, one intra-op thread: the text does not depend on the path).
 * Writes per photo: dataset, size, bytes, labelled words, and per side the words found, the lines returned and their
 * total recogniser input width.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { recInputWidth } from '../../core/placement/rec-width';
import type { Point } from '../../core/ocr/types';
import { sharedEvalDir } from '../../test-support/shared-set';
import { loadSet } from './dataset';
import { wordRecall } from './metrics';
import { createRunner } from './runners';

export interface PhotoRecallRow {
  image: string;
  dataset: string;
  width: number;
  height: number;
  bytes: number;
  /** Labelled words the recall counts (non-ignored, ≥ 3 characters). */
  words: number;
  /** Per detector side: words found, lines returned and their total recogniser input width (core/placement/rec-width.ts). */
  sides: Record<string, { found: number; lines: number; recWidth?: number }>;
}

export interface PhotoRecallReport {
  set: string;
  sides: number[];
  photos: PhotoRecallRow[];
}

const { values: a } = parseArgs({
  options: { set: { type: 'string' }, sides: { type: 'string', default: '320,480,640,800,960' }, limit: { type: 'string' }, out: { type: 'string' } },
});
const setDir = a.set ? resolve(a.set) : (sharedEvalDir() ?? (console.error('no --set given and ../shared/ocr-eval/dev is not present'), process.exit(2)));
const sides = a.sides!.split(',').map(Number);
if (!sides.every((s) => Number.isInteger(s) && s > 0)) throw new Error(`--sides expects pixel counts, got "${a.sides}"`);
const { det } = loadSet(setDir, a.limit ? Number(a.limit) : Infinity);
const rows: PhotoRecallRow[] = det.map((r) => ({
  image: r.image,
  dataset: r.dataset,
  width: r.width,
  height: r.height,
  bytes: statSync(join(setDir, r.image)).size,
  words: wordRecall(r.boxes, []).total,
  sides: {},
}));
const t0 = performance.now();
for (const side of sides) {
  const runner = await createRunner('edge', { run: { maxSide: side }, overrides: {}, threads: 1 });
  for (const [i, r] of det.entries()) {
    const res = await runner.ocr(join(setDir, r.image));
    rows[i].sides[side] = {
      found: wordRecall(
        r.boxes,
        res.lines.map((l) => l.text),
      ).found,
      lines: res.lines.length,
      recWidth: recInputWidth(res.lines.filter((l): l is { box: [Point, Point, Point, Point]; text: string } => l.box.length === 4)),
    };
  }
  await runner.release();
  const mean = rows.reduce((s, p) => s + (p.words > 0 ? p.sides[side].found / p.words : 0), 0) / rows.filter((p) => p.words > 0).length;
  console.log(`side ${side}: mean per-photo word recall ${mean.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
// Kept relative to the repository, as the set is named everywhere else (../shared/ocr-eval/dev).
const report: PhotoRecallReport = { set: relative(process.cwd(), setDir), sides, photos: rows };
if (a.out) {
  mkdirSync(dirname(resolve(a.out)), { recursive: true });
  writeFileSync(a.out, `${JSON.stringify(report, null, 1)}\n`);
}
