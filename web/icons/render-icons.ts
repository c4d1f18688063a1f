/**
 * Renders the app icons into public/ (committed; rerun after changing the design):
 *   npx tsx web/icons/render-icons.ts
 * Two overlapping rounded tiles: the phone and the edge working in tandem.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createCanvas } from '@napi-rs/canvas';
import type { SKRSContext2D } from '@napi-rs/canvas';

const THEME = '#0f5e9c';
const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

function roundRect(ctx: SKRSContext2D, x: number, y: number, w: number, h: number, r: number): void {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

/** `safe` is the share of the side the artwork may use (maskable icons are cropped to a circle of 80 %). */
function render(size: number, safe: number, rounded: boolean): Buffer {
  const canvas = createCanvas(size, size);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = THEME;
  if (rounded) {
    roundRect(ctx, 0, 0, size, size, size * 0.18);
    ctx.fill();
  } else {
    ctx.fillRect(0, 0, size, size);
  }
  const art = size * safe;
  const origin = (size - art) / 2;
  const tile = art * 0.62;
  const radius = tile * 0.2;
  ctx.fillStyle = 'rgba(255,255,255,0.55)';
  roundRect(ctx, origin, origin, tile, tile, radius);
  ctx.fill();
  ctx.fillStyle = '#ffffff';
  roundRect(ctx, origin + art - tile, origin + art - tile, tile, tile, radius);
  ctx.fill();
  // Text lines on the front tile: what the app reads.
  ctx.fillStyle = THEME;
  const lineX = origin + art - tile + tile * 0.18;
  const lineW = tile * 0.64;
  for (let i = 0; i < 3; i++) {
    const y = origin + art - tile + tile * (0.28 + i * 0.18);
    roundRect(ctx, lineX, y, lineW * (i === 2 ? 0.6 : 1), tile * 0.09, tile * 0.045);
    ctx.fill();
  }
  return canvas.toBuffer('image/png');
}

const icons: [string, Buffer][] = [
  ['icon-192.png', render(192, 0.72, true)],
  ['icon-512.png', render(512, 0.72, true)],
  ['icon-maskable-512.png', render(512, 0.56, false)],
  ['apple-touch-icon.png', render(180, 0.72, false)],
];
for (const [name, png] of icons) {
  writeFileSync(PUBLIC_DIR + name, png);
  console.log(`public/${name} ${png.length} bytes`);
}
