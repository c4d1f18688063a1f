// Orchestration checks with a stand-in for the models (the model-backed run is pipeline.models.test.ts).
import { describe, expect, it } from 'vitest';
import { createOcrPipeline } from './pipeline';
import type { PipelineConfig } from './config';
import { DEFAULT_DB_PARAMS } from './db-postprocess';
import type { FloatTensor, InferFn, RgbaImage } from './types';

const config: PipelineConfig = {
  models: { det: 'd', cls: 'c', rec: 'r' },
  det: { kind: 'det', channels: 'BGR', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], maxSide: 960, multiple: 32 },
  cls: { kind: 'cls', channels: 'BGR', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], height: 48, maxWidth: 192 },
  rec: { kind: 'rec', channels: 'BGR', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], height: 48, maxWidth: 3200 },
  charset: ['', 'a', 'b', ' '],
  db: DEFAULT_DB_PARAMS,
  useCls: true,
  clsThresh: 0.9,
  clsBatch: 6,
  recBatch: 6,
  recParallel: 1,
  recMinWidth: 320,
  dropScore: 0.5,
  spaceThresh: 1,
};

/** White 256x128 page with two dark bars (the "lines"). */
function page(): RgbaImage {
  const w = 256,
    h = 128;
  const data = new Uint8ClampedArray(w * h * 4).fill(255);
  const bar = (x0: number, y0: number, x1: number, y1: number) => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data.set([0, 0, 0, 255], (y * w + x) * 4);
  };
  bar(20, 20, 200, 36);
  bar(20, 80, 120, 96);
  return { data, width: w, height: h };
}

/** Detector stand-in: dark input pixels are text. Recogniser stand-in: reads "ab" from every crop, "a" alone in a weak one. */
function standIn(calls: { role: string; dims: number[] }[]): InferFn {
  return async (role, input): Promise<FloatTensor> => {
    calls.push({ role, dims: input.dims });
    const [n, , h, w] = input.dims;
    if (role === 'det') {
      const data = new Float32Array(h * w);
      for (let i = 0; i < h * w; i++) data[i] = input.data[i] < 0 ? 0.9 : 0.01;
      return { data, dims: [1, 1, h, w] };
    }
    if (role === 'cls') return { data: Float32Array.from({ length: n * 2 }, (_, i) => (i % 2 ? 0.95 : 0.05)), dims: [n, 2] };
    const steps = w / 8;
    const data = new Float32Array(n * steps * 4);
    for (let j = 0; j < n; j++) {
      for (let t = 0; t < steps; t++) data[(j * steps + t) * 4] = 1;
      data[j * steps * 4] = 0;
      data[j * steps * 4 + 1] = 0.99;
      data[(j * steps + 2) * 4] = 0;
      data[(j * steps + 2) * 4 + 2] = 0.97;
    }
    return { data, dims: [n, steps, 4] };
  };
}

describe('createOcrPipeline', () => {
  it('detects, crops, turns, reads and times each stage with the injected clock', async () => {
    const calls: { role: string; dims: number[] }[] = [];
    let tick = 0;
    const pipeline = createOcrPipeline(config, standIn(calls), () => (tick += 10));
    const r = await pipeline.run(page());
    expect(r.image).toEqual({ width: 256, height: 128 });
    expect(r.detInput).toEqual({ width: 256, height: 128 });
    expect(r.lines.map((l) => l.text)).toEqual(['ab', 'ab']);
    expect(r.lines.every((l) => l.rotated && l.boxScore > 0.8 && l.score > 0.97)).toBe(true);
    // The first bar spans x 20..199, y 20..35; the box is grown around it.
    const [tl, , br] = r.lines[0].box;
    expect(tl[0]).toBeLessThan(20);
    expect(br[0]).toBeGreaterThan(199);
    expect(tl[1]).toBeLessThan(20);
    expect(br[1]).toBeGreaterThan(35);
    expect(r.lines[1].box[0][1]).toBeGreaterThan(60);
    expect(calls.map((c) => c.role)).toEqual(['det', 'cls', 'rec']);
    expect(calls[1].dims).toEqual([2, 3, 48, 192]);
    expect(calls[2].dims[0]).toBe(2);
    expect(calls[2].dims[3]).toBeGreaterThanOrEqual(320);
    expect(r.timings).toEqual({ preprocess: 10, det: 10, postprocess: 10, cls: 10, rec: 10, total: 80 });
  });

  it('skips the classifier when asked and shrinks large images for the detector', async () => {
    const calls: { role: string; dims: number[] }[] = [];
    const pipeline = createOcrPipeline(config, standIn(calls), () => 0);
    const r = await pipeline.run(page(), { useCls: false, maxSide: 128 });
    expect(r.detInput).toEqual({ width: 128, height: 64 });
    expect(calls.map((c) => c.role)).toEqual(['det', 'rec']);
    expect(r.lines.every((l) => !l.rotated)).toBe(true);
    expect(r.lines[0].box[1][0]).toBeGreaterThan(199);
  });

  it('detects again at the larger side only when the first found too few lines in time, reading once', async () => {
    const run = async (escalate: { maxSide: number; belowLines: number; notAfterMs: number }) => {
      const calls: { role: string; dims: number[] }[] = [];
      let tick = 0;
      const r = await createOcrPipeline(config, standIn(calls), () => (tick += 10)).run(page(), { useCls: false, maxSide: 128, escalate });
      return { r, calls };
    };
    // Two lines found where three were wanted, 50 ms into the pass: detected again at 256, recognised once.
    const short = await run({ maxSide: 256, belowLines: 3, notAfterMs: 50 });
    expect(short.calls.map((c) => [c.role, c.dims[2], c.dims[3]])).toEqual([
      ['det', 64, 128],
      ['det', 128, 256],
      ['rec', 48, expect.any(Number)],
    ]);
    expect(short.r.detInput).toEqual({ width: 256, height: 128 });
    expect(short.r.escalated).toEqual({ fromSide: 128, lines: 2 });
    expect(short.r.lines.map((l) => l.text)).toEqual(['ab', 'ab']);
    expect(short.r.timings.det).toBe(20);
    // Enough lines, too late, or no larger side: one detection, no escalation reported.
    for (const escalate of [
      { maxSide: 256, belowLines: 2, notAfterMs: 50 },
      { maxSide: 256, belowLines: 3, notAfterMs: 40 },
      { maxSide: 128, belowLines: 3, notAfterMs: 50 },
    ]) {
      const { r, calls } = await run(escalate);
      expect(calls.filter((c) => c.role === 'det')).toHaveLength(1);
      expect(r.escalated).toBeUndefined();
      expect(r.detInput).toEqual({ width: 128, height: 64 });
    }
  });
  it('stops before the next model run once cancelled, and never when not', async () => {
    const calls: { role: string; dims: number[] }[] = [];
    let stop = false;
    const inner = standIn(calls);
    // Cancelled while the detector runs: no classifier or recogniser run starts after it.
    const infer: InferFn = async (role, input) => {
      const out = await inner(role, input);
      if (role === 'det') stop = true;
      return out;
    };
    const pipeline = createOcrPipeline(config, infer, () => 0);
    await expect(pipeline.run(page(), { cancelled: () => stop })).rejects.toMatchObject({ name: 'OcrCancelled' });
    expect(calls.map((c) => c.role)).toEqual(['det']);
    calls.length = 0;
    stop = false;
    const r = await createOcrPipeline(config, standIn(calls), () => 0).run(page(), { cancelled: () => false });
    expect(r.lines).toHaveLength(2);
    expect(calls.map((c) => c.role)).toEqual(['det', 'cls', 'rec']);
  });

  it('waits for an asynchronous answer to whether it was cancelled before each model run', async () => {
    const calls: { role: string; dims: number[] }[] = [];
    let stop = false;
    const inner = standIn(calls);
    const infer: InferFn = async (role, input) => {
      const out = await inner(role, input);
      // The stop arrives as a later task, as a cancel message reaches a busy worker.
      if (role === 'det') setTimeout(() => (stop = true), 0);
      return out;
    };
    const later = () => new Promise<boolean>((resolve) => setTimeout(() => resolve(stop), 5));
    await expect(createOcrPipeline(config, infer, () => 0).run(page(), { cancelled: later })).rejects.toMatchObject({ name: 'OcrCancelled' });
    expect(calls.map((c) => c.role)).toEqual(['det']);
  });

  it('keeps up to recParallel recogniser batches in flight, in order, and starts none after one fails', async () => {
    /** A page of `n` bars, one under the other. */
    const bars = (n: number): RgbaImage => {
      const w = 256;
      const h = 40 * n;
      const data = new Uint8ClampedArray(w * h * 4).fill(255);
      for (let k = 0; k < n; k++) for (let y = 40 * k + 12; y < 40 * k + 28; y++) for (let x = 20; x < 200; x++) data.set([0, 0, 0, 255], (y * w + x) * 4);
      return { data, width: w, height: h };
    };
    const run = async (recParallel: number, failAt = -1) => {
      const calls: { role: string; dims: number[] }[] = [];
      const inner = standIn(calls);
      let inFlight = 0;
      let most = 0;
      let recs = 0;
      const infer: InferFn = async (role, input) => {
        if (role !== 'rec') return inner(role, input);
        const k = recs++;
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        if (k === failAt) throw new Error('the worker running this batch died');
        return inner(role, input);
      };
      const pipeline = createOcrPipeline({ ...config, recBatch: 1, recParallel, useCls: false }, infer, () => 0);
      const result = await pipeline.run(bars(6)).catch((e: Error) => e);
      return { result, most, recs };
    };
    const one = await run(1);
    const two = await run(2);
    expect(one.most).toBe(1);
    expect(two.most).toBe(2);
    expect(two.result).toEqual(one.result);
    expect(!(two.result instanceof Error) && two.result.lines.map((l) => l.text)).toEqual(Array(6).fill('ab'));
    // The first batch fails while the second runs: that one finishes, no third starts.
    const failed = await run(2, 0);
    expect(failed.result).toBeInstanceOf(Error);
    expect(failed.recs).toBe(2);
  });

  it('fails with a code on bad images and on model outputs of the wrong shape', async () => {
    const pipeline = createOcrPipeline(
      config,
      async () => ({ data: new Float32Array(4), dims: [1, 1, 2, 2] }),
      () => 0,
    );
    await expect(pipeline.run({ data: new Uint8Array(3), width: 1, height: 1 })).rejects.toMatchObject({ name: 'OcrBadImage' });
    await expect(pipeline.run(page())).rejects.toMatchObject({ name: 'OcrBadModelOutput', message: expect.stringMatching(/expected \[1, 1, 128, 256\]/) });
    await expect(pipeline.run(page(), { maxSide: 0 })).rejects.toMatchObject({ name: 'OcrBadConfig' });
    await expect(pipeline.run(page(), { maxSide: 100_000 })).rejects.toMatchObject({ name: 'OcrBadConfig', message: expect.stringMatching(/4096/) });
  });
});
