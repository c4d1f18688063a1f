// The planner's per-photo recall (core/placement/estimators/recall.ts) against the committed per-photo measurements
// of the development set (bench/eval-ocr/results/photo-recall.json, `npm run eval:photo-recall`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LINES_BY_SHAPE, shapeOf } from '../../core/placement/estimators/lines';
import { KEPT_FIT, keptAtSide, REENCODE_KEPT_BY_SHAPE } from '../../core/placement/estimators/recall';
import type { PhotoRecallReport } from './photo-recall';
import { fitKept, fitLinesByBytes, keptSamples, reencodeKeptByShape } from './photo-recall-fit';

describe('the per-photo recall model against the development set', () => {
  const file = new URL('./results/photo-recall.json', import.meta.url);
  const report = JSON.parse(readFileSync(file, 'utf8')) as PhotoRecallReport;
  const { samples, full } = keptSamples(report);

  it('its constants are the fit of the committed per-photo measurements', () => {
    const { fit } = fitKept(samples, full);
    expect(KEPT_FIT.intercept).toBeCloseTo(fit.intercept, 2);
    expect(KEPT_FIT.scale).toBeCloseTo(fit.scale, 2);
    expect(KEPT_FIT.lines).toBeCloseTo(fit.lines, 2);
  });

  it("its re-encoded uploads' shares by shape are the committed measurements'", () => {
    const fitted = reencodeKeptByShape(report);
    expect(Object.keys(fitted).length).toBeGreaterThan(0);
    expect(REENCODE_KEPT_BY_SHAPE).toEqual(fitted);
  });

  it('predicts what scenes and receipts keep at each side within 0.13 on average', () => {
    for (const ds of ['icdar2015', 'sroie']) {
      for (const side of [320, 480, 640, 800]) {
        const rows = samples.filter((s) => s.dataset === ds && s.side === side);
        const w = rows.reduce((t, s) => t + s.weight, 0);
        const measured = rows.reduce((t, s) => t + s.weight * s.kept, 0) / w;
        const predicted = rows.reduce((t, s) => t + s.weight * keptAtSide(KEPT_FIT, s.side, s.longest, s.lines, full), 0) / w;
        expect(Math.abs(predicted - measured), `${ds} at ${side}`).toBeLessThan(0.13);
      }
    }
  });

  it("a receipt's lines by its bytes: the committed fit, and closer than the receipts' mean for a receipt not fitted", () => {
    const receipts = report.photos.filter((p) => shapeOf(p.width, p.height) === 'portrait').map((p) => ({ bytes: p.bytes, lines: p.sides[full].lines }));
    const { law, leaveOneOut } = fitLinesByBytes(receipts, LINES_BY_SHAPE.portrait.atBytes);
    expect(LINES_BY_SHAPE.portrait).toEqual(law);
    expect(leaveOneOut.law).toBeLessThan(0.9 * leaveOneOut.mean);
  });
});
