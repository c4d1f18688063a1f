/**
 * Word recall of every dev photo at every detector side, for fitting the planner's per-photo recall
 * (core/placement/estimators/recall.ts). The set-wide recall per side in profiles.json is a mean over receipts and
 * street scenes alike; what a photo loses at a small side depends on how small its text is in the detector's input.
 *
 *   npm run eval:photo-recall -- [--set DIR] [--sides 320,480,640,800,960] [--profiles FILE] [--limit N] [--out FILE]
 *
 * Runs core/ocr with onnxruntime-node in-process (fp32, one intra-op thread: the text does not depend on the path).
 * Writes per photo: dataset, size, bytes, labelled words, and per side the words found, the lines returned and their
 * total recogniser input width. Then the same for each re-encoded upload the profiles offer (resized and encoded as
 * the profiler does, read at the largest side the upload allows): a scene's small print suffers from JPEG at 60 %
 * where a receipt's does not, which the profiles' one factor per option hides.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { reencodeKey } from '../../core/placement/estimators/recall';
import { recInputWidth } from '../../core/placement/rec-width';
import { parseProfiles } from '../../core/profiles';
import { reencodeJpeg } from '../../models/profile/bytes';
import type { Point } from '../../core/ocr/types';
import { sharedEvalDir } from '../../test-support/shared-set';
import { decodeRgba, loadSet } from './dataset';
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
  sides: Record<string, PhotoRead>;
  /** Per re-encoded upload (core's reencodeKey), read at min(its side, the largest side): the same. */
  reencodes?: Record<string, PhotoRead>;
}

export interface PhotoRead {
  found: number;
  lines: number;
  recWidth?: number;
}

export interface PhotoRecallReport {
  set: string;
  sides: number[];
  /** The re-encoded uploads measured (absent in reports made before they were). */
  reencodes?: { maxSide: number; quality: number }[];
  photos: PhotoRecallRow[];
}

const { values: a } = parseArgs({
  options: {
    set: { type: 'string' },
    sides: { type: 'string', default: '320,480,640,800,960' },
    profiles: { type: 'string', default: 'models/profiles.json' },
    limit: { type: 'string' },
    out: { type: 'string' },
  },
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
const readOf = (r: (typeof det)[number], res: { lines: { box: [number, number][]; text: string }[] }): PhotoRead => ({
  found: wordRecall(
    r.boxes,
    res.lines.map((l) => l.text),
  ).found,
  lines: res.lines.length,
  recWidth: recInputWidth(res.lines.filter((l): l is { box: [Point, Point, Point, Point]; text: string } => l.box.length === 4)),
});
const meanRecall = (of: (p: PhotoRecallRow) => PhotoRead) =>
  rows.reduce((s, p) => s + (p.words > 0 ? of(p).found / p.words : 0), 0) / rows.filter((p) => p.words > 0).length;
for (const side of sides) {
  const runner = await createRunner('edge', { run: { maxSide: side }, overrides: {}, threads: 1 });
  for (const [i, r] of det.entries()) rows[i].sides[side] = readOf(r, await runner.ocr(join(setDir, r.image)));
  await runner.release();
  console.log(`side ${side}: mean per-photo word recall ${meanRecall((p) => p.sides[side]).toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
const reencodes = parseProfiles(readFileSync(a.profiles!, 'utf8')).reencode.map(({ maxSide, quality }) => ({ maxSide, quality }));
const largest = Math.max(...sides);
for (const opt of reencodes) {
  const side = Math.min(opt.maxSide, largest);
  const runner = await createRunner('edge', { run: { maxSide: side }, overrides: {}, threads: 1 });
  const key = reencodeKey(opt);
  for (const [i, r] of det.entries()) {
    const { jpeg } = await reencodeJpeg(readFileSync(join(setDir, r.image)), opt);
    (rows[i].reencodes ??= {})[key] = readOf(r, await runner.pipeline!.run(await decodeRgba(jpeg), { maxSide: side }));
  }
  await runner.release();
  console.log(
    `re-encode ${key} at ${side}: mean per-photo word recall ${meanRecall((p) => p.reencodes![key]).toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
}
// Kept relative to the repository, as the set is named everywhere else (../shared/ocr-eval/dev).
const report: PhotoRecallReport = { set: relative(process.cwd(), setDir), sides, reencodes, photos: rows };
if (a.out) {
  mkdirSync(dirname(resolve(a.out)), { recursive: true });
  writeFileSync(a.out, `${JSON.stringify(report, null, 1)}\n`);
}
