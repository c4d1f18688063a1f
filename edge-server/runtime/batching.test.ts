import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_LENGTH_HEADER } from '../../core/protocol/oip';
import { encodeInferenceRequest } from '../../core/protocol/oip-codec';
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

function infer(model: string, shape: number[], seed: number): Promise<Response> {
  const wire = encodeInferenceRequest(
    {
      inputs: [
        {
          name: 'x',
          datatype: 'FP32',
          shape,
          data: seededFloats(
            shape.reduce((a, b) => a * b, 1),
            seed,
          ),
        },
      ],
      parameters: { binary_data_output: true },
    },
    { binaryInputs: true },
  );
  return fetch(`${base}/v2/models/${model}/infer`, {
    method: 'POST',
    body: wire.body as Uint8Array<ArrayBuffer>,
    headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(wire.headerLength) },
  });
}

/** Holds the only worker with a large detector run, so that what is sent next has to queue. */
async function occupyWorker(): Promise<Promise<Response>> {
  const blocker = infer('ppocr-det', [1, 3, 960, 960], 99);
  for (let i = 0; i < 1000 && edge.pool.status().pool.busy === 0; i++) await new Promise((r) => setTimeout(r, 2));
  expect(edge.pool.status().pool.busy).toBe(1);
  return blocker;
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
    const blocker = await occupyWorker();
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
    await (await blocker).arrayBuffer();

    const metrics = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    const family = metrics.get('tandem_batch_size')!;
    expect(family.type).toBe('histogram');
    const det = family.samples.filter((s) => s.labels.model === 'ppocr-det');
    const count = det.find((s) => s.name === 'tandem_batch_size_count')!.value;
    const single = det.find((s) => s.name === 'tandem_batch_size_bucket' && s.labels.le === '1')!.value;
    expect(count).toBeGreaterThan(single); // some detector run served more than one request
  });
});
