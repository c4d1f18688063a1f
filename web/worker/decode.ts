import type { RgbaImage } from '../../core/ocr/types';
import { codedError, messageOf } from '../coded-error';

export interface DecodedImage {
  rgba: RgbaImage;
  /** Decoded size divided by the original size (1 unless the photo was larger than `maxSide`). */
  scale: number;
  original: { width: number; height: number };
}

/** The photo as a bitmap no larger than `maxSide` (never enlarged), EXIF orientation applied. */
async function scaledBitmap(blob: Blob, maxSide: number): Promise<{ bitmap: ImageBitmap; scale: number; original: { width: number; height: number } }> {
  let probe: ImageBitmap;
  try {
    probe = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch (error) {
    throw codedError(
      'ImageUndecodable',
      `This file (${blob.type || 'unknown type'}, ${blob.size} bytes) is not an image the browser can decode: ${messageOf(error)}. Use JPEG, PNG or WebP.`,
      error,
    );
  }
  const original = { width: probe.width, height: probe.height };
  const scale = Math.min(1, maxSide / Math.max(original.width, original.height));
  if (scale === 1) return { bitmap: probe, scale, original };
  probe.close();
  const resizeWidth = Math.max(1, Math.round(original.width * scale));
  const resizeHeight = Math.max(1, Math.round(original.height * scale));
  const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', resizeWidth, resizeHeight, resizeQuality: 'high' });
  return { bitmap, scale, original };
}

/**
 * Decodes a photo to RGBA pixels off the main thread. Very large photos are scaled down while decoding,
 * which bounds memory (a 48 MP photo would otherwise need 190 MB of RGBA).
 */
export async function decodeImage(blob: Blob, maxSide: number): Promise<DecodedImage> {
  const { bitmap, scale, original } = await scaledBitmap(blob, maxSide);
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw codedError('CanvasUnavailable', 'This browser cannot read image pixels in a worker (no OffscreenCanvas 2D).');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = context.getImageData(0, 0, width, height);
  return { rgba: { data, width, height }, scale, original };
}

/** Resized (never enlarged) and JPEG-encoded copy of a photo: what a re-encoding plan uploads instead of the original. */
export async function reencodeJpeg(blob: Blob, maxSide: number, quality: number): Promise<{ blob: Blob; width: number; height: number }> {
  if (!(maxSide >= 1) || !(quality > 0 && quality <= 1)) {
    throw codedError('BadReencode', `Re-encoding needs maxSide ≥ 1 and quality in (0, 1] (got ${maxSide}, ${quality}).`);
  }
  const { bitmap } = await scaledBitmap(blob, maxSide);
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  if (!context) throw codedError('CanvasUnavailable', 'This browser cannot draw images in a worker (no OffscreenCanvas 2D).');
  // JPEG has no alpha: transparent PNG areas become white, as a viewer shows them, not black.
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { blob: await canvas.convertToBlob({ type: 'image/jpeg', quality }), width, height };
}
