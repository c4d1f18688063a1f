import { writeFile } from 'node:fs/promises';
import { createCanvas } from '@napi-rs/canvas';
import type { TestInfo } from '@playwright/test';
import { mulberry32 } from '../../test-support/random';
import { renderTextImage } from '../../test-support/text-image';

/**
 * Text lines over seeded sensor-like noise, saved as PNG (or JPEG, as a camera saves it): the noise keeps the file as
 * large as a camera photo of that size (a clean rendering compresses to a few KB), so uploading it costs what a real
 * photo would. Returns the path and the file size.
 */
export async function photoLikeImage(
  testInfo: TestInfo,
  name: string,
  lines: string[],
  size: { width: number; height: number },
  format: 'png' | 'jpeg' = 'png',
): Promise<{ path: string; bytes: number }> {
  const image = await renderTextImage({ lines, ...size });
  const random = mulberry32(7);
  const data = new Uint8ClampedArray(image.rgba.data);
  for (let i = 0; i < data.length; i += 4) {
    const n = Math.round((random() - 0.5) * 24);
    data[i] += n;
    data[i + 1] += n;
    data[i + 2] += n;
  }
  const canvas = createCanvas(size.width, size.height);
  const ctx = canvas.getContext('2d');
  const frame = ctx.createImageData(size.width, size.height);
  frame.data.set(data);
  ctx.putImageData(frame, 0, 0);
  const encoded = format === 'png' ? await canvas.encode('png') : await canvas.encode('jpeg', 90);
  const path = testInfo.outputPath(`${name}.${format === 'png' ? 'png' : 'jpg'}`);
  await writeFile(path, encoded);
  return { path, bytes: encoded.byteLength };
}
