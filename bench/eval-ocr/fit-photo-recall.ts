/**
 * Fits the planner's per-photo recall (core/placement/estimators/recall.ts) to the dev set's per-photo word recall
 * at each detector side (`npm run eval:photo-recall`). What a photo keeps at side s of what it reads at the largest
 * side is taken as a logistic in the log of the scale (s over the photo's longest side) and the log of its line
 * count.
 *
 *   npm run fit:photo-recall -- [--in bench/eval-ocr/results/photo-recall.json]
 *
 * The line count is the one found at the largest side: the planner only has an estimate learnt from earlier
 * photos, so the fit is somewhat optimistic about what it knows. Prints the constants, and per dataset and side the
 * mean share kept, measured against the fit's and the planner's current constants'; then, per photo shape, the lines
 * found at the largest side, their power law in the photo's bytes (with each photo predicted from the others by it and
 * by the shape's plain mean) and their mean recogniser input width (the planner's LINES_BY_SHAPE and
 * LINE_WIDTH_BY_SHAPE, core/placement/estimators/lines.ts); and per re-encoded upload and shape, the share of the
 * original's words it keeps (REENCODE_KEPT_BY_SHAPE, core/placement/estimators/recall.ts).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LINE_WIDTH_BY_SHAPE, LINES_BY_SHAPE, shapeOf } from '../../core/placement/estimators/lines';
import { KEPT_FIT, keptAtSide, REENCODE_KEPT_BY_SHAPE, type KeptFit } from '../../core/placement/estimators/recall';
import type { PhotoRecallReport } from './photo-recall';
import { fitKept, fitLinesByBytes, keptSamples, reencodeKeptByShape, type BytesLaw, type KeptSample } from './photo-recall-fit';

const { values: a } = parseArgs({ options: { in: { type: 'string', default: 'bench/eval-ocr/results/photo-recall.json' } } });
const report = JSON.parse(readFileSync(a.in!, 'utf8')) as PhotoRecallReport;
const { samples, full, sides } = keptSamples(report);
const { fit, rms } = fitKept(samples, full);
console.log(`fit on ${report.photos.length} photos × ${sides.length} sides (${samples.length} samples, weighted by words read at ${full}):`);
console.log(
  `  { intercept: ${fit.intercept.toFixed(3)}, scale: ${fit.scale.toFixed(3)}, lines: ${fit.lines.toFixed(3)} }; weighted RMS error ${rms.toFixed(3)}`,
);
console.log('\n| dataset | side | photos | kept (measured) | kept (fit) | kept (KEPT_FIT) |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const ds of [...new Set(samples.map((s) => s.dataset))]) {
  for (const side of sides) {
    const rows = samples.filter((s) => s.dataset === ds && s.side === side);
    const w = rows.reduce((t, s) => t + s.weight, 0);
    const mean = (f: (s: KeptSample) => number) => rows.reduce((t, s) => t + s.weight * f(s), 0) / w;
    const by = (k: KeptFit) => mean((s) => keptAtSide(k, s.side, s.longest, s.lines, full));
    console.log(`| ${ds} | ${side} | ${rows.length} | ${mean((s) => s.kept).toFixed(3)} | ${by(fit).toFixed(3)} | ${by(KEPT_FIT).toFixed(3)} |`);
  }
}

console.log(
  `\n| shape | photos | lines at ${full} (mean, sd) | lines by bytes (fit) | LINES_BY_SHAPE | left-out error: by bytes, mean | input width per line, px | LINE_WIDTH_BY_SHAPE |`,
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const shape of ['portrait', 'landscape'] as const) {
  const photos = report.photos.filter((p) => shapeOf(p.width, p.height) === shape);
  const rows = photos.map((p) => p.sides[full]);
  const lines = rows.map((r) => r.lines);
  const mean = lines.reduce((t, l) => t + l, 0) / lines.length;
  const sd = Math.sqrt(lines.reduce((t, l) => t + (l - mean) ** 2, 0) / lines.length);
  const now = LINES_BY_SHAPE[shape];
  const { law, leaveOneOut } = fitLinesByBytes(
    photos.map((p) => ({ bytes: p.bytes, lines: p.sides[full].lines })),
    now.atBytes,
  );
  const lawText = (l: BytesLaw) =>
    `${l.lines} × (bytes / ${l.atBytes / 1000} KB)^${l.exponent} over ${Math.round(l.minBytes / 1000)}–${Number.isFinite(l.maxBytes) ? Math.round(l.maxBytes / 1000) : '∞'} KB, sd ${l.relSd > 0 ? `${(l.relSd * 100).toFixed(1)} %` : 'profile'}`;
  // Total width over total lines: what recognition's cost adds up to over these photos.
  const measured = rows.filter((r) => r.recWidth !== undefined);
  const width = measured.reduce((t, r) => t + r.recWidth!, 0) / measured.reduce((t, r) => t + r.lines, 0);
  console.log(
    `| ${shape} | ${rows.length} | ${mean.toFixed(1)}, ${sd.toFixed(1)} | ${lawText(law)} | ${lawText(now)} | ${(leaveOneOut.law * 100).toFixed(0)} %, ${(leaveOneOut.mean * 100).toFixed(0)} % | ${measured.length ? width.toFixed(0) : '–'} | ${LINE_WIDTH_BY_SHAPE[shape]} |`,
  );
}

console.log('\n| re-encoded upload | portrait: kept (fit) | REENCODE_KEPT_BY_SHAPE | landscape: kept (fit) | REENCODE_KEPT_BY_SHAPE |');
console.log('|---|---:|---:|---:|---:|');
for (const [key, kept] of Object.entries(reencodeKeptByShape(report))) {
  const now = REENCODE_KEPT_BY_SHAPE[key];
  console.log(`| ${key} | ${kept.portrait} | ${now?.portrait ?? '–'} | ${kept.landscape} | ${now?.landscape ?? '–'} |`);
}
