/**
 * Whole-request admission against a real server on loopback: what an upload's pace teaches it, and the image size a
 * client may declare. Real models and pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUDGET_HEADER, IMAGE_SIZE_HEADER, LATE_ANSWER_HEADER, LATE_ANSWER_WANTED } from '../../core/protocol/headers';
import { parseServerTiming, SERVER_TIMING_HEADER } from '../../core/protocol/server-timing';
import type { ErrorBody } from '../../core/protocol/v1';
import { renderTextImage, type TextImage } from '../../test-support/text-image';
import { listen, type Listening } from '../http/listen';
import { startTestEdge, type TestEdge } from '../test/edge-fixture';

let edge: TestEdge;
let http: Listening;
let base: string;
let photo: TextImage;
let receipt: TextImage;

beforeAll(async () => {
  [edge, photo, receipt] = await Promise.all([
    startTestEdge(),
    renderTextImage({ lines: ['Upload pace 42'], width: 320, height: 96 }),
    renderTextImage({ lines: Array.from({ length: 30 }, (_, i) => `Item ${i + 1} total ${(i * 7.25).toFixed(2)}`), width: 600, height: 1500 }),
  ]);
  http = await listen(edge.app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${http.port}`;
});
afterAll(async () => {
  await http?.close(1000);
  await edge?.dispose();
});

/** The photo's bytes in `parts` pieces, `gapMs` apart: an upload over a slow link. */
function slowBody(bytes: Uint8Array, parts: number, gapMs: number): ReadableStream<Uint8Array> {
  const size = Math.ceil(bytes.length / parts);
  let i = 0;
  return new ReadableStream({
    async pull(controller) {
      if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
      controller.enqueue(bytes.subarray(i * size, (i + 1) * size));
      if (++i === parts) controller.close();
    },
  });
}

const post = (body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>, headers: Record<string, string>, maxSide = 320) =>
  fetch(`${base}/v1/ocr?maxSide=${maxSide}`, { method: 'POST', body, headers: { 'content-type': 'image/jpeg', ...headers }, duplex: 'half' } as RequestInit);

describe('whole-request admission', () => {
  it('does not learn an upload’s pace as the server’s work', async () => {
    const slow = await post(slowBody(photo.jpeg, 5, 500), { [BUDGET_HEADER]: '30000' });
    expect(slow.status).toBe(200);
    const timing = parseServerTiming(slow.headers.get(SERVER_TIMING_HEADER));
    expect(timing.read).toBeGreaterThan(1500);
    const work = timing.total - timing.read;
    // On the time the slow request took in all, an idle server refused this one: its upload was the client's link.
    const budget = Math.round(Math.min(timing.total / 2, work + 800));
    const res = await post(photo.jpeg as Uint8Array<ArrayBuffer>, { [BUDGET_HEADER]: String(budget) });
    const body = res.status === 200 ? null : ((await res.json()) as ErrorBody);
    expect(body, `budget ${budget} ms after ${Math.round(work)} ms of work`).toBeNull();
    expect(res.status).toBe(200);
  });

  it('takes a declared image size and refuses a malformed one with a clear reason', async () => {
    const ok = await post(photo.jpeg as Uint8Array<ArrayBuffer>, { [BUDGET_HEADER]: '30000', [IMAGE_SIZE_HEADER]: '320x96' });
    expect(ok.status).toBe(200);
    const bad = await post(photo.jpeg as Uint8Array<ArrayBuffer>, { [BUDGET_HEADER]: '30000', [IMAGE_SIZE_HEADER]: 'wide' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error).toContain(IMAGE_SIZE_HEADER);
  });
});

describe('a late answer the client still wants', () => {
  // A receipt never read at these sides before: an idle server admits it on a 50 ms budget it cannot make.
  const receiptHeaders = (extra: Record<string, string> = {}) => ({ [BUDGET_HEADER]: '50', [IMAGE_SIZE_HEADER]: '600x1500', ...extra });

  it('is finished past the deadline instead of answered 503', async () => {
    const res = await post(receipt.jpeg as Uint8Array<ArrayBuffer>, receiptHeaders({ [LATE_ANSWER_HEADER]: LATE_ANSWER_WANTED }), 960);
    expect(res.status).toBe(200);
    const timing = parseServerTiming(res.headers.get(SERVER_TIMING_HEADER));
    expect(timing.total).toBeGreaterThan(50);
    const body = (await res.json()) as { lines: { text: string }[] };
    // Read in full: the recogniser sometimes drops the spaces of this font.
    const read = new Set(body.lines.map((l) => l.text.replace(/\s/g, '')));
    const expected = Array.from({ length: 30 }, (_, i) => `Item${i + 1}total${(i * 7.25).toFixed(2)}`);
    expect(expected.filter((t) => read.has(t)).length).toBeGreaterThanOrEqual(25);
  });

  it('is dropped at the deadline when not asked for, and a malformed ask is refused', async () => {
    const res = await post(receipt.jpeg as Uint8Array<ArrayBuffer>, receiptHeaders(), 800);
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrorBody).code).toBe('DeadlineUnmeetable');
    const bad = await post(photo.jpeg as Uint8Array<ArrayBuffer>, { [BUDGET_HEADER]: '30000', [LATE_ANSWER_HEADER]: 'yes' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error).toContain(LATE_ANSWER_HEADER);
  });
});
