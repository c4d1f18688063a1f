/**
 * Request sizes from an OCR evaluation folder (the ocr-eval layout: det.jsonl with width, height and boxes, image
 * files beside it): pixels, bytes on disk and text regions per image. Only sizes are read, never pixels.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { simError } from './traces';

export interface SimImage {
  file: string;
  width: number;
  height: number;
  bytes: number;
  /** Labelled text regions that are not marked ignore (the lines the recogniser reads). */
  lines: number;
}

export function loadImages(dir: string): SimImage[] {
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
      out.push({ file: rec.image, width: rec.width, height: rec.height, bytes: statSync(path).size, lines });
    });
  if (out.length === 0) throw simError('SimNoImages', `${det} lists no images`);
  return out;
}
