/** Renders text-line images at test time, so tests need no stored fixtures and know the exact answer. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import type { RgbaImage } from '../core/ocr/types';

/** Our own family name, so rendering never depends on which fonts the machine has installed. */
export const FIXTURE_FONT = 'Tandem Fixture Sans';

let fontReady = false;
function ensureFont(): void {
  if (fontReady) return;
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@fontsource/dejavu-sans/package.json')), 'files');
  GlobalFonts.registerFromPath(join(dir, 'dejavu-sans-latin-400-normal.woff2'), FIXTURE_FONT);
  if (!GlobalFonts.has(FIXTURE_FONT)) throw new Error(`Could not register ${FIXTURE_FONT} from ${dir}; reinstall @fontsource/dejavu-sans.`);
  fontReady = true;
}

export interface TextImageOptions {
  lines: string[];
  width?: number;
  height?: number;
  /** Rotation of the whole text block about the image centre, degrees clockwise. */
  rotateDeg?: number;
  /** Font size in px (default: fits the lines into the image). */
  fontSize?: number;
  /** CSS colours. */
  background?: string;
  color?: string;
  /** Left margin in px. */
  left?: number;
}

export interface LinePlacement {
  text: string;
  /** Axis-aligned box of the drawn glyphs before rotation, in image pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface TextImage {
  rgba: RgbaImage;
  png: Uint8Array;
  jpeg: Uint8Array;
  lines: string[];
  /** Where each line was drawn (before `rotateDeg`). */
  placements: LinePlacement[];
}

export async function renderTextImage(opts: TextImageOptions): Promise<TextImage> {
  ensureFont();
  const lines = opts.lines;
  if (!lines.length) {
    const err = new Error('renderTextImage needs at least one line.');
    err.name = 'FixtureBadInput';
    throw err;
  }
  const width = opts.width ?? 640;
  const height = opts.height ?? Math.max(120, 80 * lines.length + 40);
  const left = opts.left ?? Math.round(width * 0.06);
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = opts.background ?? '#f4f1ea';
  ctx.fillRect(0, 0, width, height);

  const pitchFit = height / (lines.length + 1);
  let fontSize = opts.fontSize ?? Math.floor(pitchFit * 0.5);
  ctx.font = `${fontSize}px "${FIXTURE_FONT}"`;
  const widest = Math.max(...lines.map((l) => ctx.measureText(l).width));
  if (!opts.fontSize && widest > width - 2 * left) {
    fontSize = Math.floor((fontSize * (width - 2 * left)) / widest);
    ctx.font = `${fontSize}px "${FIXTURE_FONT}"`;
  }

  ctx.save();
  if (opts.rotateDeg) {
    ctx.translate(width / 2, height / 2);
    ctx.rotate((opts.rotateDeg * Math.PI) / 180);
    ctx.translate(-width / 2, -height / 2);
  }
  ctx.fillStyle = opts.color ?? '#111111';
  ctx.textBaseline = 'alphabetic';
  const placements: LinePlacement[] = [];
  const pitch = height / (lines.length + 1);
  lines.forEach((text, i) => {
    const m = ctx.measureText(text);
    const baseline = Math.round(pitch * (i + 1) + (m.actualBoundingBoxAscent - m.actualBoundingBoxDescent) / 2);
    ctx.fillText(text, left, baseline);
    placements.push({
      text,
      x: left - m.actualBoundingBoxLeft,
      y: baseline - m.actualBoundingBoxAscent,
      width: m.actualBoundingBoxLeft + m.actualBoundingBoxRight,
      height: m.actualBoundingBoxAscent + m.actualBoundingBoxDescent,
    });
  });
  ctx.restore();

  const img = ctx.getImageData(0, 0, width, height);
  return {
    rgba: { data: new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.length), width, height },
    png: new Uint8Array(await canvas.encode('png')),
    jpeg: new Uint8Array(await canvas.encode('jpeg', 92)),
    lines: lines.slice(),
    placements,
  };
}
