import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OcrResponse } from '../../core/protocol/v1';
import { renderTextImage, type TextImage } from '../../test-support/text-image';
import { listen, type Listening } from '../http/listen';
import { parsePrometheusText } from '../test/prometheus-text';
import { seededFloats, startTestEdge, type TestEdge } from '../test/edge-fixture';

// One single-thread worker: while it runs one request, the others queue and are joined into shared runs.
let edge: TestEdge;
let http: Listening;
let base: string;
let images: TextImage[];
const TEXTS = [['Batch alpha 101'], ['Second request 2026'], ['Kiwi 3.50 EUR'], ['Zebra crossing ahead']];

beforeAll(async () => {
  [edge, images] = await Promise.all([
    startTestEdge({ POOL_WORKERS: '1', ORT_INTRA_OP_THREADS: '1', BATCH_MAX_SIZE: '8', BATCH_MAX_DELAY_MS: '0', MAX_BODY_BYTES: '20000000' }),
    Promise.all(TEXTS.map((lines) => renderTextImage({ lines, width: 480, height: 96 }))),
  ]);
  http = await listen(edge.app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${http.port}`;
});
afterAll(async () => {
  await http?.close(1000);
  await edge?.dispose();
});

const batchOf = (res: Response) => Number(/batch;desc="(\d+)"/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? NaN);

/**
 * Holds the only worker with a large detector run, so that what is sent next has to queue, and returns once it does.
 * The run comes back wrapped: an async function returning it bare would wait for it to finish.
 */
async function occupyWorker(side: number): Promise<{ done: Promise<unknown> }> {
  const done = edge.pool.run('ppocr-det', { x: { datatype: 'FP32', dims: [1, 3, side, side], data: seededFloats(3 * side * side, 99) } });
  for (let i = 0; i < 1000 && edge.pool.status().pool.busy === 0; i++) await new Promise((r) => setTimeout(r, 2));
  expect(edge.pool.status().pool.busy).toBe(1);
  return { done };
}

describe('dynamic batching on a listening server', () => {
  it('gives each caller of a shared run its own output, equal to running alone', async () => {
    const input = (seed: number) => ({ x: { datatype: 'FP32' as const, dims: [1, 3, 48, 192], data: seededFloats(3 * 48 * 192, seed) } });
    const alone: Float32Array[] = [];
    for (const seed of [1, 2, 3]) alone.push((await edge.pool.run('ppocr-cls', input(seed))).outputs['softmax_0.tmp_0'].data as Float32Array);
    const blocker = edge.pool.run('ppocr-det', { x: { datatype: 'FP32', dims: [1, 3, 640, 640], data: seededFloats(3 * 640 * 640, 9) } });
    const together = await Promise.all([1, 2, 3].map((seed) => edge.pool.run('ppocr-cls', input(seed))));
    expect(together.map((r) => r.batch)).toEqual([3, 3, 3]);
    together.forEach((r, i) => {
      const out = r.outputs['softmax_0.tmp_0'];
      expect(out.dims).toEqual([1, 2]);
      (out.data as Float32Array).forEach((v, k) => expect(v).toBeCloseTo(alone[i][k], 4));
    });
    expect(alone[0][0]).not.toBeCloseTo(alone[1][0], 6); // the inputs differ, so a mix-up would show
    await blocker;
  });

  it('reads concurrent whole images of different text, each reply with its own lines', async () => {
    // Whole images are decoded and prepared one after another in the pipeline thread before their detector runs
    // queue: the run holding the worker must outlast that, under a full test run too.
    const blocker = await occupyWorker(1280);
    const replies = await Promise.all(
      images.map((img) =>
        fetch(`${base}/v1/ocr`, {
          method: 'POST',
          body: img.png as Uint8Array<ArrayBuffer>,
          headers: { 'content-type': 'image/png' },
        }),
      ),
    );
    const batches = replies.map(batchOf);
    const texts = await Promise.all(
      replies.map(async (r) => {
        expect(r.status).toBe(200);
        return ((await r.json()) as OcrResponse).lines.map((l) => l.text);
      }),
    );
    expect(texts).toEqual(TEXTS);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    await blocker.done;

    const metrics = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    const family = metrics.get('tandem_batch_size')!;
    expect(family.type).toBe('histogram');
    const det = family.samples.filter((s) => s.labels.model === 'ppocr-det');
    const count = det.find((s) => s.name === 'tandem_batch_size_count')!.value;
    const single = det.find((s) => s.name === 'tandem_batch_size_bucket' && s.labels.le === '1')!.value;
    expect(count).toBeGreaterThan(single); // some detector run served more than one request
  });
});
