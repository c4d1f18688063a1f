/**
 * Requests whose client has gone run nothing more: on a real socket, clients post a photo and hang up after about
 * 50 ms; their queued model runs are withdrawn, no model run starts after that, they are counted and logged as
 * ClientClosed (info, no stack), and the server then answers a normal request. Clients that stall their headers or
 * body lose their connection after the configured timeouts.
 */
import { readFileSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OcrResponse, StatusResponse } from '../core/protocol/v1';
import { sharedEvalDir } from '../test-support/shared-set';
import { renderTextImage } from '../test-support/text-image';
import { createApp } from './app';
import { listen, type Listening } from './http/listen';
import { createLogger } from './log';
import { parsePrometheusText } from './test/prometheus-text';
import { startTestEdge, type TestEdge } from './test/edge-fixture';

const CLIENTS = 8;
const BODY_IDLE_MS = 500;
const HEADERS_MS = 500;

let edge: TestEdge;
let http: Listening;
let base: string;
let photo: Uint8Array;
const lines: string[] = [];

beforeAll(async () => {
  // One single-thread worker: the clients' detector runs queue behind one another, as under load.
  edge = await startTestEdge({ POOL_WORKERS: '1', ORT_INTRA_OP_THREADS: '1', MAX_IMAGE_PIXELS: '40000000', MAX_BODY_BYTES: '20000000' });
  const log = createLogger('info', (line) => lines.push(line));
  const app = createApp({
    config: { ...edge.config, bodyIdleTimeoutMs: BODY_IDLE_MS },
    repo: edge.repo,
    pool: edge.pool,
    ocr: edge.ocr,
    log,
    version: 't',
    startedAt: Date.now(),
    metrics: edge.metrics,
  });
  http = await listen(app, 0, '127.0.0.1', { headersTimeoutMs: HEADERS_MS });
  base = `http://127.0.0.1:${http.port}`;
  const dir = sharedEvalDir();
  // A receipt photo from the dev set (39 lines) when present; otherwise a generated page of text.
  photo = dir
    ? readFileSync(join(dir, 'images/sroie/031.jpg'))
    : (await renderTextImage({ lines: Array.from({ length: 12 }, (_, i) => `Line ${i} of the generated receipt`), width: 1080, height: 1500 })).jpeg;
});
afterAll(async () => {
  await http?.close(1000);
  await edge?.dispose();
});

const status = async () => (await (await fetch(`${base}/v1/status`)).json()) as StatusResponse;
const totalRuns = (s: StatusResponse) => s.models.reduce((n, m) => n + (m.runs ?? 0), 0);

async function outcomes(): Promise<Map<string, number>> {
  const families = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
  const counts = new Map<string, number>();
  for (const s of families.get('tandem_http_requests_total')?.samples ?? []) {
    if (s.labels.route === '/v1/ocr') counts.set(s.labels.outcome, (counts.get(s.labels.outcome) ?? 0) + s.value);
  }
  return counts;
}

/** Posts the photo and destroys the connection `afterMs` later, whatever stage the server is at. */
function postAndHangUp(afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(`${base}/v1/ocr`, { method: 'POST', headers: { 'content-type': 'image/jpeg', 'content-length': photo.length } });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.end(photo);
    setTimeout(() => {
      req.destroy();
      resolve();
    }, afterMs);
  });
}

/** Sends the headers and the first half of the photo, then nothing. */
function postHalf(): ClientRequest {
  const req = request(`${base}/v1/ocr`, { method: 'POST', headers: { 'content-type': 'image/jpeg', 'content-length': photo.length } });
  req.on('error', () => {});
  req.write(photo.subarray(0, photo.length >> 1));
  return req;
}

async function until(what: string, ok: () => Promise<boolean>, limitMs = 60_000): Promise<void> {
  const end = performance.now() + limitMs;
  while (performance.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('abandoned whole-image requests', () => {
  it('withdraw their queued model runs, start no run after the clients left, and leave the server serving', async () => {
    const warm = await fetch(`${base}/v1/ocr`, { method: 'POST', body: photo as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'image/jpeg' } });
    expect(warm.status).toBe(200);
    const warmDetMs = ((await warm.json()) as OcrResponse).timings.det;
    const before = (await outcomes()).get('ClientClosed') ?? 0;

    await Promise.all(Array.from({ length: CLIENTS }, () => postAndHangUp(50)));
    // Every abandoned request has been answered inside the server (its work stopped at the next stage boundary)...
    await until('every abandoned request to be counted', async () => ((await outcomes()).get('ClientClosed') ?? 0) - before === CLIENTS);
    const runsThen = totalRuns(await status());
    // ...and whatever was running then finishes, but nothing new starts for them.
    await until('the pool to go idle', async () => {
      const s = await status();
      return s.pool.busy === 0 && s.pool.queued === 0 && (s.ocr?.inProgress ?? 0) === 0;
    });
    await new Promise((r) => setTimeout(r, 300));
    const after = await status();
    expect(totalRuns(after) - runsThen).toBe(0);
    expect(after.models.every((m) => m.queued === 0 && m.inFlight === 0)).toBe(true);

    const abandoned = lines.filter((l) => l.includes('request abandoned'));
    expect(abandoned.length).toBe(CLIENTS);
    expect(abandoned.every((l) => / info  /.test(l) && l.includes('"code":"ClientClosed"') && !l.includes('stack'))).toBe(true);
    expect(lines.filter((l) => / error /.test(l))).toEqual([]);

    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(200);
    const next = await fetch(`${base}/v1/ocr`, { method: 'POST', body: photo as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'image/jpeg' } });
    expect(next.status).toBe(200);
    const body = (await next.json()) as OcrResponse;
    expect(body.lines.length).toBeGreaterThan(0);
    // Nothing was left queued ahead of it: one abandoned detector run would cost it a whole detector run's wait. Its
    // own recogniser batches wait a few milliseconds each for one another on the single worker, so the bound is the
    // detector's time on an idle server, not zero.
    expect(body.server.queue).toBeLessThan(warmDetMs);
  }, 180_000);

  it('stop when the client hangs up in the middle of its upload', async () => {
    const before = (await outcomes()).get('ClientClosed') ?? 0;
    const req = postHalf();
    await new Promise((r) => setTimeout(r, 100));
    req.destroy();
    await until('the request to be counted as ClientClosed', async () => ((await outcomes()).get('ClientClosed') ?? 0) === before + 1, 20_000);
    expect((await status()).ocr?.inProgress ?? 0).toBe(0);
  });

  it('lose their connection when the body stops arriving or the headers never end', async () => {
    const before = (await outcomes()).get('BodyTimeout') ?? 0;
    const req = postHalf();
    const closed = await new Promise<number>((resolve) => {
      const t0 = performance.now();
      req.on('close', () => resolve(performance.now() - t0));
    });
    // The server closed it (the client never would): after the idle time, well before Node's own minutes.
    expect(closed).toBeGreaterThanOrEqual(BODY_IDLE_MS - 50);
    expect(closed).toBeLessThan(15_000);
    await until('the stalled body to be counted', async () => ((await outcomes()).get('BodyTimeout') ?? 0) === before + 1, 10_000);
    expect(lines.some((l) => / info  request abandoned/.test(l) && l.includes('BodyTimeout'))).toBe(true);

    const socket = connect(http.port, '127.0.0.1');
    socket.write('POST /v1/ocr HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n');
    let reply = '';
    socket.on('data', (d) => {
      reply += d.toString();
    });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(200);
  }, 60_000);
});
