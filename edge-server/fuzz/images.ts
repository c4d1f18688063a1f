/**
 * Image bytes for fuzzing `/v1/ocr`: small valid PNG, JPEG and WebP files built with sharp, and the damage done to
 * them (truncation, flipped and zeroed bytes, headers that claim other dimensions). Built once, before the cases are
 * drawn, because fast-check generators are synchronous.
 */
import { crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { renderTextImage } from '../../test-support/text-image';

export type FuzzFormat = 'png' | 'jpeg' | 'webp';
export const FUZZ_FORMATS: readonly FuzzFormat[] = ['png', 'jpeg', 'webp'];

export interface ImageCorpus {
  /** Valid images of every format at a few sizes, text and blank. */
  small: Uint8Array[];
  /** A 6000×6600 PNG of zeros: 39.6 Mpx decoded from about 0.1 MB (under the default MAX_IMAGE_PIXELS). */
  zeroBomb: Uint8Array;
}

const SIZES: Array<[number, number]> = [
  [1, 1],
  [17, 9],
  [64, 48],
  [200, 31],
];

async function encode(pipeline: Sharp, format: FuzzFormat): Promise<Uint8Array> {
  const out = format === 'png' ? pipeline.png() : format === 'jpeg' ? pipeline.jpeg({ quality: 80 }) : pipeline.webp({ quality: 80 });
  return new Uint8Array(await out.toBuffer());
}

/** A blank image of `width`×`height` in one colour. */
export function blankImage(width: number, height: number, format: FuzzFormat, value = 255): Promise<Uint8Array> {
  return encode(sharp({ create: { width, height, channels: 3, background: { r: value, g: value, b: value } } }), format);
}

/** The memory-amplification probe: a PNG of zeros whose decoded size is near the default pixel limit. */
export function zeroPng(width = 6000, height = 6600): Promise<Uint8Array> {
  return encode(sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 } } }), 'png');
}

export async function buildImageCorpus(options: { withBomb?: boolean } = {}): Promise<ImageCorpus> {
  const text = await renderTextImage({ lines: ['Fuzz 42'], width: 160, height: 48 });
  const small: Uint8Array[] = [];
  for (const format of FUZZ_FORMATS) {
    for (const [w, h] of SIZES) small.push(await blankImage(w, h, format, (w * 7 + h) % 256));
    small.push(await encode(sharp(Buffer.from(text.png)), format));
  }
  // Without the bomb a tiny stand-in keeps the same slot, so case streams stay comparable.
  const zeroBomb = options.withBomb ? await zeroPng() : await zeroPng(64, 64);
  return { small, zeroBomb };
}

/** Damage applied to a valid image; the server must answer every one with a clean status. */
export type ImageDamage =
  | { kind: 'none' }
  | { kind: 'truncate'; fraction: number }
  | { kind: 'flip'; at: number[]; xor: number }
  | { kind: 'zero'; from: number; length: number }
  | { kind: 'dims'; width: number; height: number; fixCrc: boolean }
  | { kind: 'append'; bytes: number };

export function damageImage(image: Uint8Array, damage: ImageDamage): Uint8Array {
  const out = new Uint8Array(image);
  switch (damage.kind) {
    case 'none':
      return out;
    case 'truncate':
      return out.subarray(0, Math.floor(out.length * damage.fraction));
    case 'flip':
      for (const at of damage.at) out[Math.floor(at * out.length) % out.length] ^= damage.xor || 1;
      return out;
    case 'zero': {
      const from = Math.floor(damage.from * out.length);
      out.fill(0, from, Math.min(out.length, from + damage.length));
      return out;
    }
    case 'dims':
      return withDimensions(out, damage.width, damage.height, damage.fixCrc);
    case 'append': {
      const longer = new Uint8Array(out.length + damage.bytes);
      longer.set(out);
      return longer;
    }
  }
}

/**
 * The same bytes with a header that claims `width`×`height`: PNG IHDR (CRC recomputed or left stale), JPEG SOFn,
 * WebP VP8/VP8L/VP8X. The pixel data stays as it was, so the claim and the data disagree.
 */
export function withDimensions(bytes: Uint8Array, width: number, height: number, fixCrc = true): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] === 0x89 && bytes.length >= 33) {
    view.setUint32(16, width >>> 0);
    view.setUint32(20, height >>> 0);
    if (fixCrc) view.setUint32(29, crc32(bytes.subarray(12, 29)) >>> 0);
    return bytes;
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    for (let i = 2; i + 9 < bytes.length;) {
      if (bytes[i] !== 0xff) {
        i++;
        continue;
      }
      const marker = bytes[i + 1];
      const length = view.getUint16(i + 2);
      // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        view.setUint16(i + 5, height & 0xffff);
        view.setUint16(i + 7, width & 0xffff);
        return bytes;
      }
      i += 2 + length;
    }
    return bytes;
  }
  if (bytes.length >= 30 && String.fromCharCode(...bytes.subarray(12, 16)) === 'VP8 ') {
    view.setUint16(26, Math.min(width, 0x3fff), true);
    view.setUint16(28, Math.min(height, 0x3fff), true);
  } else if (bytes.length >= 25 && String.fromCharCode(...bytes.subarray(12, 16)) === 'VP8L') {
    const w = Math.max(0, Math.min(width, 0x4000) - 1);
    const h = Math.max(0, Math.min(height, 0x4000) - 1);
    view.setUint32(21, (w | (h << 14)) >>> 0, true);
  } else if (bytes.length >= 30 && String.fromCharCode(...bytes.subarray(12, 16)) === 'VP8X') {
    const w = Math.max(0, Math.min(width, 0x1000000) - 1);
    const h = Math.max(0, Math.min(height, 0x1000000) - 1);
    bytes.set([w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], 24);
  }
  return bytes;
}
