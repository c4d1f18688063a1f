import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { renderTextImage } from './text-image';

describe('renderTextImage', () => {
  it('draws dark text on a light page and returns matching RGBA, PNG and JPEG', async () => {
    const fx = await renderTextImage({ lines: ['Hello Tandem 2026', 'Edge offload test'], width: 400, height: 160 });
    expect(fx.lines).toEqual(['Hello Tandem 2026', 'Edge offload test']);
    expect([fx.rgba.width, fx.rgba.height, fx.rgba.data.length]).toEqual([400, 160, 400 * 160 * 4]);
    expect(Array.from(fx.png.slice(1, 4))).toEqual([0x50, 0x4e, 0x47]);
    expect(Array.from(fx.jpeg.slice(0, 2))).toEqual([0xff, 0xd8]);
    const meta = await sharp(fx.jpeg).metadata();
    expect([meta.width, meta.height]).toEqual([400, 160]);

    // Ink only inside the reported line boxes; the corner is background.
    const lum = (x: number, y: number) => fx.rgba.data[(y * 400 + x) * 4 + 1];
    expect(lum(2, 2)).toBeGreaterThan(200);
    let dark = 0;
    let outside = 0;
    for (let y = 0; y < 160; y++) {
      for (let x = 0; x < 400; x++) {
        if (lum(x, y) > 100) continue;
        dark++;
        const inBox = fx.placements.some((p) => x >= p.x - 1 && x <= p.x + p.width + 1 && y >= p.y - 1 && y <= p.y + p.height + 1);
        if (!inBox) outside++;
      }
    }
    expect(dark).toBeGreaterThan(500);
    expect(outside).toBe(0);
    expect(fx.placements[0].y + fx.placements[0].height).toBeLessThan(fx.placements[1].y);
  });

  it('shrinks the font to fit long lines and can rotate the page', async () => {
    const long = await renderTextImage({ lines: ['A line much too long to fit at the default size'], width: 300, height: 80 });
    const p = long.placements[0];
    expect(p.x).toBeGreaterThanOrEqual(0);
    expect(p.x + p.width).toBeLessThanOrEqual(300);
    const turned = await renderTextImage({ lines: ['Edge offload test'], width: 300, height: 80, rotateDeg: 180 });
    // Turned by 180°, the ink sits in the mirrored place: right part of the page.
    const inkX = (img: typeof turned.rgba) => {
      let sum = 0,
        n = 0;
      for (let i = 0; i < img.width * img.height; i++)
        if (img.data[i * 4 + 1] < 100) {
          sum += i % img.width;
          n++;
        }
      return sum / n;
    };
    const upright = await renderTextImage({ lines: ['Edge offload test'], width: 300, height: 80 });
    expect(inkX(turned.rgba) + inkX(upright.rgba)).toBeCloseTo(299, -1);
  });

  it('refuses an empty page', async () => {
    await expect(renderTextImage({ lines: [] })).rejects.toThrow(/at least one line/);
  });
});
