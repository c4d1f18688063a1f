/**
 * Runs in the profiling page (bundled by browser-harness.ts): onnxruntime-web WASM sessions on the page's own
 * thread, where Chromium's CPU throttling applies, and the device's non-model stages with the product's own code.
 * Every function times its own runs with performance.now() and returns the raw samples.
 */
import type * as OrtModule from 'onnxruntime-web';
import type { DetPreprocess } from '../../../core/ocr/preprocess';
import { detTensor } from '../../../core/ocr/preprocess';
import { dbPostprocess, DEFAULT_DB_PARAMS } from '../../../core/ocr/db-postprocess';
import { cropQuad } from '../../../core/ocr/crop';
import type { RgbaImage } from '../../../core/ocr/types';
import { reencodeJpeg } from '../../../web/worker/decode';

type Ort = typeof OrtModule;

let ort: Ort | null = null;
const bytes = new Map<string, Uint8Array>();
const sessions = new Map<string, OrtModule.InferenceSession>();

async function modelBytes(path: string): Promise<Uint8Array> {
  let b = bytes.get(path);
  if (!b) {
    const res = await fetch(`/models/${path}`);
    if (!res.ok) throw new Error(`GET /models/${path}: ${res.status}`);
    b = new Uint8Array(await res.arrayBuffer());
    bytes.set(path, b);
  }
  return b;
}

function runtime(): Ort {
  if (!ort) throw new Error('init() first');
  return ort;
}

/** Seeded filler so every runtime sees the same inputs (model compute does not depend on pixel values). */
function filled(n: number, seed = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296) * 4 - 2;
  }
  return a;
}

const api = {
  /** Loads onnxruntime-web; the first session creation also compiles the WASM, so init is measured around it. */
  async init(threads: number, probePath: string): Promise<{ initMs: number; crossOriginIsolated: boolean; threads: number }> {
    const t0 = performance.now();
    // A runtime URL, so the bundler leaves onnxruntime-web to be loaded from its own files.
    const url = '/ort/ort.wasm.min.mjs';
    ort = (await import(url)) as Ort;
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.wasmPaths = '/ort/';
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    const probe = await modelBytes(probePath);
    const t1 = performance.now();
    const first = await ort.InferenceSession.create(probe, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const t2 = performance.now();
    await first.release();
    const t3 = performance.now();
    const again = await ort.InferenceSession.create(probe, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const t4 = performance.now();
    await again.release();
    // Import plus the first creation's surplus over a warm one: loading and compiling the runtime.
    return { initMs: t1 - t0 + Math.max(0, t2 - t1 - (t4 - t3)), crossOriginIsolated: self.crossOriginIsolated, threads: ort.env.wasm.numThreads as number };
  },

  async create(path: string): Promise<number> {
    const b = await modelBytes(path);
    const old = sessions.get(path);
    if (old) await old.release();
    const t0 = performance.now();
    const s = await runtime().InferenceSession.create(b, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const ms = performance.now() - t0;
    sessions.set(path, s);
    return ms;
  },

  /** `warmup` untimed runs, then `reps` timed runs of one input shape. */
  async run(path: string, dims: number[], warmup: number, reps: number): Promise<number[]> {
    const s = sessions.get(path);
    if (!s) throw new Error(`no session for ${path}`);
    const o = runtime();
    const input = new o.Tensor('float32', filled(dims.reduce((a, b) => a * b, 1)), dims);
    const out: number[] = [];
    for (let i = 0; i < warmup + reps; i++) {
      const t0 = performance.now();
      const r = await s.run({ [s.inputNames[0]]: input });
      const ms = performance.now() - t0;
      for (const t of Object.values(r)) t.dispose();
      if (i >= warmup) out.push(ms);
    }
    return out;
  },

  /**
   * `warmup` untimed runs of each model, then `reps` rounds of one timed run per model in turn: load changes hit
   * every model alike, and one call per shape keeps the page independent of the profiler process's own work.
   */
  async rounds(paths: string[], dims: number[], warmup: number, reps: number): Promise<number[][]> {
    const o = runtime();
    const input = new o.Tensor('float32', filled(dims.reduce((a, b) => a * b, 1)), dims);
    const list = paths.map((p) => {
      const s = sessions.get(p);
      if (!s) throw new Error(`no session for ${p}`);
      return s;
    });
    const once = async (s: OrtModule.InferenceSession) => {
      const t0 = performance.now();
      const r = await s.run({ [s.inputNames[0]]: input });
      const ms = performance.now() - t0;
      for (const t of Object.values(r)) t.dispose();
      return ms;
    };
    for (const s of list) for (let i = 0; i < warmup; i++) await once(s);
    const out = list.map(() => [] as number[]);
    for (let i = 0; i < reps; i++) for (const [k, s] of list.entries()) out[k].push(await once(s));
    return out;
  },

  async release(path: string): Promise<void> {
    await sessions.get(path)?.release();
    sessions.delete(path);
  },

  /** JPEG/PNG bytes → RGBA pixels, as the app decodes a photo. */
  async decode(url: string, warmup: number, reps: number): Promise<{ samples: number[]; pixels: number }> {
    const blob = await (await fetch(url)).blob();
    const out: number[] = [];
    let pixels = 0;
    for (let i = 0; i < warmup + reps; i++) {
      const t0 = performance.now();
      const bmp = await createImageBitmap(blob);
      const canvas = new OffscreenCanvas(bmp.width, bmp.height);
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(bmp, 0, 0);
      ctx.getImageData(0, 0, bmp.width, bmp.height);
      const ms = performance.now() - t0;
      pixels = bmp.width * bmp.height;
      bmp.close();
      if (i >= warmup) out.push(ms);
    }
    return { samples: out, pixels };
  },

  /**
   * The product's re-encode of an upload, timed whole as the app measures it: decoding the original, resizing to a
   * longest side and JPEG-encoding.
   */
  async reencode(url: string, maxSide: number, quality: number, warmup: number, reps: number): Promise<{ samples: number[]; pixels: number; bytes: number }> {
    const original = await (await fetch(url)).blob();
    const probe = await createImageBitmap(original);
    const pixels = probe.width * probe.height;
    probe.close();
    const out: number[] = [];
    let size = 0;
    for (let i = 0; i < warmup + reps; i++) {
      const t0 = performance.now();
      const { blob } = await reencodeJpeg(original, maxSide, quality);
      const ms = performance.now() - t0;
      size = blob.size;
      if (i >= warmup) out.push(ms);
    }
    return { samples: out, pixels, bytes: size };
  },

  /** The product's detector preprocessing (resize + normalise) at each side. */
  async preprocess(
    url: string,
    spec: DetPreprocess,
    sides: number[],
    warmup: number,
    reps: number,
  ): Promise<{ side: number; detPixels: number; samples: number[] }[]> {
    const image = await rgbaOf(url);
    return sides.map((side) => {
      const out: number[] = [];
      let detPixels = 0;
      for (let i = 0; i < warmup + reps; i++) {
        const t0 = performance.now();
        const t = detTensor(image, spec, side);
        const ms = performance.now() - t0;
        detPixels = t.width * t.height;
        if (i >= warmup) out.push(ms);
      }
      return { side, detPixels, samples: out };
    });
  },

  /** Probability map → boxes → crops, with the product's code, on a real map fetched from the harness. */
  async postprocess(url: string, probUrl: string, width: number, height: number, warmup: number, reps: number): Promise<{ samples: number[]; boxes: number }> {
    const image = await rgbaOf(url);
    const data = new Float32Array(await (await fetch(probUrl)).arrayBuffer());
    const out: number[] = [];
    let boxes = 0;
    for (let i = 0; i < warmup + reps; i++) {
      const t0 = performance.now();
      const found = dbPostprocess({ data, width, height }, image, DEFAULT_DB_PARAMS);
      for (const b of found) cropQuad(image, b.box);
      const ms = performance.now() - t0;
      boxes = found.length;
      if (i >= warmup) out.push(ms);
    }
    return { samples: out, boxes };
  },
};

async function rgbaOf(url: string): Promise<RgbaImage> {
  const bmp = await createImageBitmap(await (await fetch(url)).blob());
  const canvas = new OffscreenCanvas(bmp.width, bmp.height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bmp, 0, 0);
  const d = ctx.getImageData(0, 0, bmp.width, bmp.height);
  return { data: d.data, width: d.width, height: d.height };
}

export type ProfilePageApi = typeof api;
(globalThis as unknown as { tandemProfile: ProfilePageApi }).tandemProfile = api;
