/** The shared OCR evaluation layout (det.jsonl, rec.jsonl, images/, words/) and image decoding. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { RgbaImage } from '../../core/ocr/types';
import type { Polygon } from './metrics';

export interface DetRow {
  image: string;
  boxes: { points: Polygon; text: string; ignore: boolean }[];
  dataset: string;
  level: 'word' | 'line';
  width: number;
  height: number;
}

export interface RecRow {
  image: string;
  text: string;
  dataset: string;
  width: number;
  height: number;
}

function readJsonl<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as T;
      } catch (e) {
        throw new Error(`${file}:${i + 1}: ${(e as Error).message}`);
      }
    });
}

export function loadSet(dir: string, limit = Infinity): { det: DetRow[]; rec: RecRow[] } {
  return {
    det: readJsonl<DetRow>(join(dir, 'det.jsonl')).slice(0, limit),
    rec: readJsonl<RecRow>(join(dir, 'rec.jsonl')).slice(0, limit),
  };
}

export async function decodeRgba(bytes: Uint8Array): Promise<RgbaImage> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

export const MIME: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };
export const mimeOf = (file: string) => MIME[file.split('.').pop()!.toLowerCase()] ?? 'application/octet-stream';
