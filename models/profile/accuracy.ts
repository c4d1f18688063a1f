/**
 * Accuracy of every configuration on a labelled set, scored with bench/eval-ocr's metrics: per detector variant
 * and input side the detector runs once per image and its line crops are read by the recognisers asked for; each
 * recogniser is also scored alone on the set's word crops (word accuracy, CER).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccuracyEntry } from '../../core/profiles';
import type { RgbaImage } from '../../core/ocr/types';
import type { Detection } from '../../core/ocr/pipeline';
import { decodeRgba, type DetRow, type RecRow } from '../../bench/eval-ocr/dataset';
import { addCounts, detScores, editDistance, matchDetections, normalizeWord, wordRecall, type DetCounts } from '../../bench/eval-ocr/metrics';
import type { NodeSessions } from './node-sessions';
import type { ProfiledManifestModel } from './models';

export interface AccuracyPlan {
  dets: ProfiledManifestModel[];
  recs: ProfiledManifestModel[];
  cls: ProfiledManifestModel;
  sides: number[];
  /** Recognisers other than the first read only the first detector's crops at this side, unless `cross` is set. */
  defaultSide: number;
  cross: boolean;
  /**
   * Each detector's crops are also read by the recogniser of its own variant at every side: the sets a device
   * downloads and runs together (a subset of `cross`, a fraction of its time).
   */
  matched?: boolean;
}

export interface AccuracyResult {
  entries: AccuracyEntry[];
  /** Line crops per image at the default configuration (first det and rec, default side). */
  linesPerImage: number[];
  /** Padded recogniser widths of the default configuration's crops (for sizing recognition runs). */
  lineWidths: number[];
  /** Per image at the default configuration: kept lines and their texts (for reply sizes). */
  replies: { lines: { box: number[][]; text: string; score: number }[] }[];
}

const EMPTY: DetCounts = { gt: 0, gtMatched: 0, pred: 0, predMatched: 0 };
const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** Word accuracy and CER of one recogniser on the set's word crops. */
export async function scoreRecognizer(
  sessions: NodeSessions,
  det: string,
  cls: string,
  rec: string,
  setDir: string,
  rows: RecRow[],
): Promise<{ recWordAcc: number; cer: number; crops: number }> {
  const pipeline = sessions.pipeline({ det, cls, rec });
  let correct = 0;
  let edits = 0;
  let chars = 0;
  for (let start = 0; start < rows.length; start += 60) {
    const chunk = rows.slice(start, start + 60);
    const crops = await Promise.all(chunk.map((r) => decodeRgba(readFileSync(join(setDir, r.image)))));
    const out = await pipeline.recognize(crops, { useCls: false });
    chunk.forEach((r, j) => {
      const want = normalizeWord(r.text);
      const got = normalizeWord(out.texts[j].text);
      if (got === want) correct++;
      edits += editDistance(got, want);
      chars += [...want].length;
    });
  }
  return { recWordAcc: r4(correct / Math.max(1, rows.length)), cer: r4(edits / Math.max(1, chars)), crops: rows.length };
}

export async function measureAccuracy(
  sessions: NodeSessions,
  plan: AccuracyPlan,
  setDir: string,
  det: DetRow[],
  rec: RecRow[],
  log: (line: string) => void,
): Promise<AccuracyResult> {
  const recScores = new Map<string, { recWordAcc: number; cer: number }>();
  for (const r of plan.recs) {
    recScores.set(r.id, await scoreRecognizer(sessions, plan.dets[0].name, plan.cls.name, r.name, setDir, rec));
    log(`  rec ${r.id}: word accuracy ${recScores.get(r.id)!.recWordAcc}, CER ${recScores.get(r.id)!.cer}`);
  }
  const images: RgbaImage[] = [];
  for (const row of det) images.push(await decodeRgba(readFileSync(join(setDir, row.image))));

  const result: AccuracyResult = { entries: [], linesPerImage: [], lineWidths: [], replies: [] };
  // Texts per recogniser and image for a given set of boxes: detector variants often find exactly the same boxes,
  // and the same crops in the same batches read the same.
  const readBefore = new Map<string, { text: string; score: number }[]>();
  for (const d of plan.dets) {
    for (const side of plan.sides) {
      const detector = sessions.pipeline({ det: d.name, cls: plan.cls.name, rec: plan.recs[0].name });
      const detections: Detection[][] = [];
      for (const image of images) detections.push((await detector.detect(image, { maxSide: side })).detections);
      const recs =
        plan.cross || (side === plan.defaultSide && d === plan.dets[0])
          ? plan.recs
          : plan.recs.filter((r, i) => i === 0 || (plan.matched === true && r.variant === d.variant));
      for (const r of recs) {
        const isDefault = d === plan.dets[0] && r === plan.recs[0] && side === plan.defaultSide;
        const pipeline = sessions.pipeline({ det: d.name, cls: plan.cls.name, rec: r.name });
        let counts = EMPTY;
        let found = 0;
        let total = 0;
        for (const [i, row] of det.entries()) {
          const crops = detections[i].map((x) => x.crop);
          const key = `${r.id}|${i}|${detections[i].map((x) => x.box.join(',')).join(';')}`;
          let texts = readBefore.get(key);
          if (!texts) {
            texts = (await pipeline.recognize(crops, { useCls: false })).texts;
            readBefore.set(key, texts);
          }
          // The pipeline's own rule (OcrPipeline.run): empty or low-confidence lines are dropped.
          const kept = detections[i]
            .map((x, j) => ({ box: x.box, ...texts[j], text: texts[j].text.trim() }))
            .filter((l) => l.text && l.score >= pipeline.config.dropScore);
          counts = addCounts(
            counts,
            matchDetections(
              kept.map((l) => l.box.map((p) => [p[0], p[1]] as [number, number])),
              row.boxes,
            ),
          );
          const w = wordRecall(
            row.boxes,
            kept.map((l) => l.text),
          );
          found += w.found;
          total += w.total;
          if (isDefault) {
            result.linesPerImage.push(crops.length);
            const spec = pipeline.config.rec;
            for (const c of crops)
              result.lineWidths.push(Math.min(spec.maxWidth, Math.max(pipeline.config.recMinWidth, Math.ceil((spec.height * c.width) / c.height))));
            result.replies.push({ lines: kept.map((l) => ({ box: l.box.map((p) => [p[0], p[1]]), text: l.text, score: l.score })) });
          }
        }
        const s = detScores(counts);
        const rs = recScores.get(r.id)!;
        result.entries.push({
          det: d.id,
          maxSide: side,
          rec: r.id,
          wordRecall: r4(found / Math.max(1, total)),
          n: det.length,
          words: total,
          detHmean: r4(s.hmean),
          detPrecision: r4(s.precision),
          detRecall: r4(s.recall),
          recWordAcc: rs.recWordAcc,
          cer: rs.cer,
        });
        log(`  ${d.id} @${side} × ${r.id}: word recall ${r4(found / Math.max(1, total))}, det H-mean ${r4(s.hmean)}`);
      }
    }
  }
  return result;
}
