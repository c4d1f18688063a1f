/**
 * Request sizes from an OCR evaluation folder (the ocr-eval layout: det.jsonl with width, height and boxes, image
 * files beside it): pixels, bytes on disk and text regions per image. Only sizes are read, never pixels. With the
 * set's per-photo recall measured at each detector side (`npm run eval:photo-recall`, committed for the dev set), a
 * request reads what that photo reads at the plan's side (and what it kept re-encoded for upload, when it is): its
 * words, its lines and their recogniser input width, which is what recognition costs.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PhotoRecallReport } from '../eval-ocr/photo-recall';
import { simError } from './traces';

/** The dev set's per-photo recall, measured with fp32 models at each detector side. */
export const DEV_PHOTO_RECALL = new URL('../eval-ocr/results/photo-recall.json', import.meta.url);

export interface SimImage {
  file: string;
  width: number;
  height: number;
  bytes: number;
  /** Labelled text regions that are not marked ignore (the lines the recogniser reads). */
  lines: number;
  /** Word recall of this photo per detector side (fp32 models), when measured. */
  recallBySide?: Record<number, number>;
  /** Word recall of this photo re-encoded per upload option ("960q60"), read at the largest side it allows, when measured. */
  recallByReencode?: Record<string, number>;
  /** Lines this photo's read finds per detector side (fp32 models), when measured. */
  linesBySide?: Record<number, number>;
  /** Total recogniser input width of those lines per detector side, in pixels at the input height, when measured. */
  recWidthBySide?: Record<number, number>;
}

export interface PhotoMeasures {
  bySide: Record<number, number>;
  byReencode: Record<string, number>;
  linesBySide: Record<number, number>;
  recWidthBySide: Record<number, number>;
}

/** Per-photo recall by image path, from a photo-recall report (photos without labelled words left out). */
export function photoRecall(file: URL | string): Map<string, PhotoMeasures> {
  const report = JSON.parse(readFileSync(file, 'utf8')) as PhotoRecallReport;
  const out = new Map<string, PhotoMeasures>();
  for (const p of report.photos) {
    if (!(p.words > 0)) continue;
    const m: PhotoMeasures = { bySide: {}, byReencode: {}, linesBySide: {}, recWidthBySide: {} };
    for (const [side, r] of Object.entries(p.sides)) {
      m.bySide[Number(side)] = r.found / p.words;
      m.linesBySide[Number(side)] = r.lines;
      if (r.recWidth !== undefined) m.recWidthBySide[Number(side)] = r.recWidth;
    }
    for (const [key, r] of Object.entries(p.reencodes ?? {})) m.byReencode[key] = r.found / p.words;
    out.set(p.image, m);
  }
  return out;
}

export function loadImages(dir: string, recall?: Map<string, PhotoMeasures>): SimImage[] {
  const det = join(dir, 'det.jsonl');
  if (!existsSync(det)) throw simError('SimNoImages', `${det} not found; pass --images DIR of an OCR evaluation set (det.jsonl + images/)`);
  const out: SimImage[] = [];
  readFileSync(det, 'utf8')
    .split('\n')
    .forEach((line, n) => {
      if (line.trim() === '') return;
      let rec: { image?: unknown; width?: unknown; height?: unknown; boxes?: { ignore?: boolean }[] };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        throw simError('SimImagesInvalid', `${det}:${n + 1}: not JSON`);
      }
      if (typeof rec.image !== 'string' || typeof rec.width !== 'number' || typeof rec.height !== 'number') {
        throw simError('SimImagesInvalid', `${det}:${n + 1}: expected "image", "width" and "height"`);
      }
      const path = join(dir, rec.image);
      if (!existsSync(path)) throw simError('SimImagesInvalid', `${det}:${n + 1}: image ${rec.image} is missing`);
      const lines = Array.isArray(rec.boxes) ? rec.boxes.filter((b) => b.ignore !== true).length : 0;
      const m = recall?.get(rec.image);
      out.push({
        file: rec.image,
        width: rec.width,
        height: rec.height,
        bytes: statSync(path).size,
        lines,
        recallBySide: m?.bySide,
        recallByReencode: m?.byReencode,
        linesBySide: m?.linesBySide,
        recWidthBySide: m?.recWidthBySide,
      });
    });
  if (out.length === 0) throw simError('SimNoImages', `${det} lists no images`);
  return out;
}
