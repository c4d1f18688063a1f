import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_LENGTH_HEADER, type InferenceRequest } from '../core/protocol/oip';
import { encodeInferenceRequest } from '../core/protocol/oip-codec';
import { BUDGET_HEADER, type ErrorBody, type StatusResponse } from '../core/protocol/v1';
import { renderTextImage, type TextImage } from '../test-support/text-image';
import { listen, type Listening } from './http/listen';
import { seededFloats, startTestEdge, type TestEdge } from './test/edge-fixture';

// One single-thread worker, so one detector run holds the whole pool and queueing is deterministic.
let edge: TestEdge;
let http: Listening;
let base: string;
let fixture: TextImage;

beforeAll(async () => {
  [edge, fixture] = await Promise.all([
    startTestEdge({ POOL_WORKERS: '1', ORT_INTRA_OP_THREADS: '1', MAX_BODY_BYTES: '20000000' }),
    renderTextImage({ lines: ['Deadline 42'], width: 320, height: 96 }),
  ]);
  http = await listen(edge.app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${http.port}`;
});
afterAll(async () => {
  await http?.close(1000);
  await edge?.dispose();
});

function infer(model: string, shape: number[], deadlineMs?: number): Promise<Response> {
  return prepare(model, shape, deadlineMs)();
}

/** Encodes first, so a timed send measures the server, not the client's encoding. */
function prepare(model: string, shape: number[], deadlineMs?: number): () => Promise<Response> {
  const request: InferenceRequest = {
    inputs: [{ name: 'x', datatype: 'FP32', shape, data: seededFloats(shape.reduce((a, b) => a * b, 1)) }],
    // Binary outputs: encoding a large detector map as JSON would stall the shared event loop and blur the timings.
    parameters: { binary_data_output: true, ...(deadlineMs === undefined ? {} : { deadline_ms: deadlineMs }) },
  };
  const wire = encodeInferenceRequest(request, { binaryInputs: true });
  return () =>
    fetch(`${base}/v2/models/${model}/infer`, {
      method: 'POST',
      body: wire.body as Uint8Array<ArrayBuffer>,
      headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(wire.headerLength) },
    });
}

const status = async () => (await (await fetch(`${base}/v1/status`)).json()) as StatusResponse;
const runs = async (model: string) => (await status()).models.find((m) => m.name === model)!.runs!;

async function untilBusy(): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (edge.pool.status().pool.busy > 0) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('the worker never became busy');
}

/** Server-side time of a reply, from its Server-Timing total. */
const serverMs = (res: Response) => Number(/total;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? NaN);

/**
 * Client-observed time of the fastest of a few identical refused sends. The test process shares 2 cores with the
 * inference thread and with other suites' workers, so a single send can be descheduled for tens of milliseconds;
 * every try must be refused, and the server's own time stays bounded on each.
 */
async function fastest(send: () => Promise<Response>, tries = 5): Promise<{ ms: number; res: Response }> {
  let best: { ms: number; res: Response } | null = null;
  for (let i = 0; i < tries; i++) {
    const t = performance.now();
    const res = await send();
    const ms = performance.now() - t;
    expect(res.status).toBe(503);
    expect(serverMs(res)).toBeLessThan(250);
    if (!best || ms < best.ms) best = { ms, res };
    else await res.arrayBuffer();
    if (best.ms < 20) break;
  }
  return best!;
}

async function expectRefusal(res: Response): Promise<ErrorBody> {
  expect(res.status).toBe(503);
  expect(res.headers.get('server-timing')).toMatch(/queue;dur=0\.0, total;dur=/);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  const body = (await res.json()) as ErrorBody;
  expect(body).toMatchObject({ code: 'DeadlineUnmeetable', error: expect.stringMatching(/budget.*device/) });
  expect(body.predicted_ms).toBeGreaterThan(body.budget_ms!);
  return body;
}

const CLS = [1, 3, 48, 96];
const BIG_DET = [1, 3, 960, 960];

describe('deadline-aware scheduling on a socket', () => {
  it('drops a queued run that becomes late, without running it', async () => {
    expect((await infer('ppocr-cls', CLS)).status).toBe(200); // no budget: served as before
    // The detector has never run at this size, so the server predicts no wait and admits the classifier run...
    let detDone = false;
    const det = infer('ppocr-det', BIG_DET).then((r) => {
      detDone = true;
      return r;
    });
    await untilBusy();
    const before = await runs('ppocr-cls');
    const late = await infer('ppocr-cls', CLS, 40);
    // ...which then waits behind the detector until it can no longer finish, and is answered then, not after the detector.
    expect(detDone).toBe(false);
    await expectRefusal(late);
    expect((await det).status).toBe(200);
    expect(await runs('ppocr-cls')).toBe(before);
    expect((await status()).models.find((m) => m.name === 'ppocr-cls')!.refused).toBe(1);
  });

  it('refuses at once a run predicted to finish after its budget', async () => {
    // Now the detector's time at this size is measured: a run behind it cannot make 60 ms.
    const det = infer('ppocr-det', BIG_DET);
    await untilBusy();
    expect((await status()).models[0].predictedWaitMs).toBeGreaterThan(60);
    const before = await runs('ppocr-cls');
    const { ms, res } = await fastest(prepare('ppocr-cls', CLS, 60));
    await expectRefusal(res);
    expect(ms).toBeLessThan(20);
    expect((await det).status).toBe(200);
    expect(await runs('ppocr-cls')).toBe(before);
    // With room, the same request runs.
    expect((await infer('ppocr-cls', CLS, 10_000)).status).toBe(200);
  });

  it('refuses whole-image OCR that cannot meet its budget before reading the image', async () => {
    const post = (budget?: number) =>
      fetch(`${base}/v1/ocr`, {
        method: 'POST',
        body: fixture.png as Uint8Array<ArrayBuffer>,
        headers: { 'content-type': 'image/png', ...(budget === undefined ? {} : { [BUDGET_HEADER]: String(budget) }) },
      });
    const plain = await post();
    expect(plain.status).toBe(200);
    expect(plain.headers.get('server-timing')).toMatch(/queue;dur=[\d.]+/);
    const { ms, res } = await fastest(() => post(3));
    const body = await expectRefusal(res);
    expect(body.budget_ms).toBeLessThanOrEqual(3);
    expect(ms).toBeLessThan(20);
    const roomy = await post(60_000);
    expect(roomy.status).toBe(200);
    expect(((await roomy.json()) as { lines: Array<{ text: string }> }).lines.map((l) => l.text)).toEqual(fixture.lines);
    await expect(post(-1).then((r) => r.json())).resolves.toMatchObject({ code: 'BadRequest' });
  });

  it('rejects a malformed deadline_ms', async () => {
    const wire = encodeInferenceRequest(
      {
        parameters: { deadline_ms: 'soon' },
        inputs: [{ name: 'x', datatype: 'FP32', shape: CLS, data: seededFloats(3 * 48 * 96) }],
      },
      { binaryInputs: true },
    );
    const res = await fetch(`${base}/v2/models/ppocr-cls/infer`, {
      method: 'POST',
      body: wire.body as Uint8Array<ArrayBuffer>,
      headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(wire.headerLength) },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'OipMalformed', error: expect.stringMatching(/deadline_ms/) });
  });
});
