import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wordRecall } from '../bench/eval-ocr/metrics';
import { HEADER_LENGTH_HEADER } from '../core/protocol/oip';
import { decodeInferenceResponse, encodeInferenceRequest } from '../core/protocol/oip-codec';
import type { OcrResponse } from '../core/protocol/v1';
import { sharedEvalDir } from '../test-support/shared-set';
import { renderTextImage, type TextImage } from '../test-support/text-image';
import { listen, type Listening } from './http/listen';
import { seededFloats, startTestEdge, type TestEdge } from './test/edge-fixture';

let edge: TestEdge;
let http: Listening;
let base: string;
let fixture: TextImage;

beforeAll(async () => {
  [edge, fixture] = await Promise.all([
    startTestEdge({ MAX_IMAGE_PIXELS: '40000000', MAX_BODY_BYTES: '20000000' }),
    renderTextImage({ lines: ['The quick brown fox', 'Tandem edge 2026'], width: 640, height: 240 }),
  ]);
  http = await listen(edge.app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${http.port}`;
});
afterAll(async () => {
  await http?.close(1000);
  await edge?.dispose();
});

const ocr = (body: Uint8Array, type = 'image/jpeg') =>
  fetch(`${base}/v1/ocr`, { method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers: { 'content-type': type } });

describe('edge server on a socket', () => {
  it('reads a generated image exactly, with isolation headers and Server-Timing', async () => {
    const res = await ocr(fixture.png, 'image/png');
    expect(res.status).toBe(200);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(res.headers.get('server-timing')).toMatch(/decode;dur=.*det;dur=.*rec;dur=.*total;dur=/);
    const body = (await res.json()) as OcrResponse;
    expect(body.lines.map((l) => l.text)).toEqual(fixture.lines);
  });

  it('answers OIP inference on the detector identically for JSON and binary bodies', async () => {
    const input = { name: 'x', datatype: 'FP32' as const, shape: [1, 3, 96, 96], data: seededFloats(3 * 96 * 96, 7) };
    const json = encodeInferenceRequest({ inputs: [input] });
    const a = await fetch(`${base}/v2/models/ppocr-det/infer`, { method: 'POST', body: json.body as string, headers: { 'content-type': 'application/json' } });
    expect(a.status).toBe(200);
    const bin = encodeInferenceRequest({ inputs: [input], outputs: [{ name: 'sigmoid_0.tmp_0', parameters: { binary_data: true } }] }, { binaryInputs: true });
    const b = await fetch(`${base}/v2/models/ppocr-det/infer`, {
      method: 'POST',
      body: bin.body as Uint8Array<ArrayBuffer>,
      headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(bin.headerLength) },
    });
    expect(b.status).toBe(200);
    const fromJson = decodeInferenceResponse(await a.text()).outputs[0];
    const fromBin = decodeInferenceResponse(new Uint8Array(await b.arrayBuffer()), Number(b.headers.get(HEADER_LENGTH_HEADER))).outputs[0];
    expect(fromBin.shape).toEqual([1, 1, 96, 96]);
    expect(Array.from(fromBin.data as Float32Array)).toEqual(Array.from(fromJson.data as Float32Array));
  });

  it('refuses a streamed body over the limit and a truncated image, then still serves', async () => {
    // No Content-Length: the limit must hold while the body streams in.
    const chunk = new Uint8Array(1 << 20).fill(0xff);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 25) controller.close();
        else {
          sent++;
          controller.enqueue(chunk);
        }
      },
    });
    const tooBig = await fetch(`${base}/v1/ocr`, {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'image/jpeg' },
      duplex: 'half',
    } as RequestInit);
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: string }).error).toMatch(/larger than the server limit/);

    const truncated = await ocr(fixture.jpeg.subarray(0, fixture.jpeg.length - 400));
    expect(truncated.status).toBe(400);
    expect(((await truncated.json()) as { code: string }).code).toBe('ImageCorrupt');

    const good = await ocr(fixture.jpeg);
    expect(good.status).toBe(200);
    // JPEG artefacts can cost the gaps between words; the letters must all be there.
    const squeeze = (s: string) => s.replace(/\s+/g, '');
    expect(((await good.json()) as OcrResponse).lines.map((l) => squeeze(l.text))).toEqual(fixture.lines.map(squeeze));
  });
});

describe('shared evaluation images', () => {
  const dir = sharedEvalDir();
  const names = ['images/sroie/030.jpg', 'images/sroie/031.jpg', 'images/icdar2015/img_9.jpg'];

  it.skipIf(!dir)('finds at least 80 % of the labelled words (3 dev images; 92 % measured)', async () => {
    const rows = readFileSync(join(dir!, 'det.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { image: string; boxes: { text: string; ignore: boolean }[] })
      .filter((r) => names.includes(r.image) && existsSync(join(dir!, r.image)));
    expect(rows.length).toBeGreaterThan(0);
    let found = 0;
    let total = 0;
    for (const row of rows) {
      const res = await ocr(new Uint8Array(readFileSync(join(dir!, row.image))));
      expect(res.status).toBe(200);
      const body = (await res.json()) as OcrResponse;
      const r = wordRecall(
        row.boxes,
        body.lines.map((l) => l.text),
      );
      found += r.found;
      total += r.total;
    }
    console.info(`edge /v1/ocr word recall on ${rows.length} dev images: ${found}/${total} = ${(found / total).toFixed(2)}`);
    expect(found / total).toBeGreaterThanOrEqual(0.8);
  });
});

describe('graceful shutdown', () => {
  it('finishes a request in progress, then stops accepting', async () => {
    const own = await startTestEdge();
    const server = await listen(own.app, 0, '127.0.0.1');
    const url = `http://127.0.0.1:${server.port}`;
    try {
      const inFlight = fetch(`${url}/v1/ocr`, { method: 'POST', body: fixture.png as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'image/png' } });
      await new Promise((r) => setTimeout(r, 50));
      const closing = server.close(10_000).then(() => own.close());
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(((await res.json()) as OcrResponse).lines.length).toBe(2);
      await closing;
      await expect(fetch(`${url}/v2/health/live`)).rejects.toThrow();
      expect(own.pool.status().pool.workers).toBe(0);
    } finally {
      await server.close(0);
      await own.dispose();
    }
  });
});
