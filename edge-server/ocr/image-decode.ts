/** Photo bytes → upright RGBA pixels, refusing anything that is not a complete JPEG, PNG or WebP within the pixel limit. */
import sharp, { type Metadata } from 'sharp';
import type { RgbaImage } from '../../core/ocr/types';
import { ServerError } from '../http/errors';

// libvips keeps recently decoded images and opened files in a cache (50 MB of operations, 100 files by default)
// and decodes with as many threads as cores per image; with requests decoding in parallel on the libuv pool, that
// held gigabytes after a burst of large images. Each request decodes its image once, so nothing is worth caching.
sharp.cache(false);
sharp.concurrency(1);

export type ImageFormat = 'jpeg' | 'png' | 'webp';

/** Recognises the formats by their signatures; the Content-Type header is only a hint. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  const at = (i: number, ...values: number[]) => values.every((v, k) => bytes[i + k] === v);
  if (bytes.length >= 3 && at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (bytes.length >= 8 && at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (bytes.length >= 12 && at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp';
  return null;
}

export interface DecodedImage {
  rgba: RgbaImage;
  format: ImageFormat;
}

/** How many pixels decoding will produce, read from the image header alone (nothing is decoded). */
export async function imagePixels(bytes: Uint8Array, maxPixels: number): Promise<number> {
  const format = checkedFormat(bytes);
  let meta: Metadata;
  try {
    meta = await sharp(toBuffer(bytes), { limitInputPixels: maxPixels }).metadata();
  } catch (e) {
    throw decodeError(e, format, maxPixels);
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > maxPixels) throw new ServerError('ImageTooLarge', `the image has ${pixels} pixels, more than the limit of ${maxPixels}; send a smaller image`);
  return pixels;
}

function checkedFormat(bytes: Uint8Array): ImageFormat {
  if (bytes.length === 0) throw new ServerError('EmptyBody', 'the request body is empty; send the image bytes (JPEG, PNG or WebP)');
  const format = sniffImageFormat(bytes);
  if (!format) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new ServerError('UnsupportedMediaType', `the body is not a JPEG, PNG or WebP image (it starts with bytes ${head})`);
  }
  return format;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodeError(e: unknown, format: ImageFormat, maxPixels: number): ServerError {
  const message = (e as Error).message.split('\n')[0].trim();
  if (/pixel limit/i.test(message)) {
    return new ServerError('ImageTooLarge', `the image has more than ${maxPixels} pixels; send a smaller image (${message})`);
  }
  return new ServerError('ImageCorrupt', `the ${format.toUpperCase()} image could not be decoded; it may be truncated or damaged (${message})`);
}

export async function decodeImage(bytes: Uint8Array, maxPixels: number): Promise<DecodedImage> {
  const format = checkedFormat(bytes);
  const buffer = toBuffer(bytes);
  try {
    // 'warning' makes libvips fail on truncated or damaged data instead of returning grey rows.
    const { data, info } = await sharp(buffer, { limitInputPixels: maxPixels, failOn: 'warning' })
      .rotate() // honour EXIF orientation: the user expects the text the way the photo is shown
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`decoder produced ${info.channels} channels`);
    return { rgba: { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height }, format };
  } catch (e) {
    throw decodeError(e, format, maxPixels);
  }
}
