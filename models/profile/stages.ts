/** The stages around the models: decode, detector preprocessing, post-processing, re-encoding; on Node and in the page. */
import { readFileSync } from 'node:fs';
import type { StageProfile } from '../../core/profiles';
import type { DetPreprocess } from '../../core/ocr/preprocess';
import { detTensor } from '../../core/ocr/preprocess';
import { dbPostprocess, DEFAULT_DB_PARAMS } from '../../core/ocr/db-postprocess';
import { cropQuad } from '../../core/ocr/crop';
import type { RgbaImage } from '../../core/ocr/types';
import { decodeRgba } from '../../bench/eval-ocr/dataset';
import type { ProfilePage } from './browser/harness';
import { detPixels, type DetShape } from './latency-plan';
import { latencyStats } from './stats';

export interface StageInputs {
  /** Photos of different sizes, for decode and re-encode (the first one also for the detector stages). */
  images: { file: string; url: string; width: number; height: number }[];
  spec: DetPreprocess;
  shapes: DetShape[];
  /** Detector output of the first image per shape (side), and its URL in the page. */
  probs: Map<number, { data: Float32Array; url: string }>;
  reencode: { maxSide: number; quality: number };
  warmup: number;
  reps: number;
}

async function timed(warmup: number, reps: number, f: () => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const t0 = performance.now();
    await f();
    const ms = performance.now() - t0;
    if (i >= warmup) out.push(ms);
  }
  return out;
}

/** Edge-side stages: sharp decode, preprocessing and post-processing in this process (JavaScript, one thread). */
export async function nodeStages(inp: StageInputs): Promise<StageProfile[]> {
  const decodePoints = [];
  for (const img of inp.images) {
    const bytes = readFileSync(img.file);
    decodePoints.push({ x: img.width * img.height, stats: latencyStats(await timed(inp.warmup, inp.reps, () => decodeRgba(bytes))) });
  }
  const image = await decodeRgba(readFileSync(inp.images[0].file));
  const pre = [];
  const post = [];
  for (const s of inp.shapes) {
    pre.push({ x: detPixels(s), stats: latencyStats(await timed(inp.warmup, inp.reps, () => detTensor(image, inp.spec, s.side))) });
    const prob = inp.probs.get(s.side)!;
    post.push({ x: detPixels(s), stats: latencyStats(await timed(inp.warmup, inp.reps, () => postprocess(image, prob.data, s))) });
  }
  return [
    { stage: 'decode', unit: 'image-pixels', points: byX(decodePoints) },
    { stage: 'det-preprocess', unit: 'det-pixels', points: pre },
    { stage: 'postprocess', unit: 'det-pixels', points: post },
  ];
}

function postprocess(image: RgbaImage, data: Float32Array, s: DetShape): void {
  for (const b of dbPostprocess({ data, width: s.width, height: s.height }, image, DEFAULT_DB_PARAMS)) cropQuad(image, b.box);
}

/** Device-side stages in the page: browser decode and JPEG re-encode, the product's preprocessing and post-processing. */
export async function pageStages(page: ProfilePage, inp: StageInputs): Promise<StageProfile[]> {
  const decodePoints = [];
  const reencodePoints = [];
  for (const img of inp.images) {
    const d = await page.call('decode', img.url, inp.warmup, inp.reps);
    decodePoints.push({ x: d.pixels, stats: latencyStats(d.samples) });
    const r = await page.call('reencode', img.url, inp.reencode.maxSide, inp.reencode.quality, inp.warmup, inp.reps);
    reencodePoints.push({ x: r.pixels, stats: latencyStats(r.samples) });
  }
  const first = inp.images[0];
  const pre = await page.call(
    'preprocess',
    first.url,
    inp.spec,
    inp.shapes.map((s) => s.side),
    inp.warmup,
    inp.reps,
  );
  const post = [];
  for (const s of inp.shapes) {
    const r = await page.call('postprocess', first.url, inp.probs.get(s.side)!.url, s.width, s.height, inp.warmup, inp.reps);
    post.push({ x: detPixels(s), stats: latencyStats(r.samples) });
  }
  return [
    { stage: 'decode', unit: 'image-pixels', points: byX(decodePoints) },
    { stage: 'reencode', unit: 'image-pixels', points: byX(reencodePoints) },
    { stage: 'det-preprocess', unit: 'det-pixels', points: pre.map((p) => ({ x: p.detPixels, stats: latencyStats(p.samples) })) },
    { stage: 'postprocess', unit: 'det-pixels', points: post },
  ];
}

function byX<T extends { x: number }>(points: T[]): T[] {
  return [...points].sort((a, b) => a.x - b.x);
}
