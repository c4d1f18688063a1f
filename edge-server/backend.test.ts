/**
 * EDGE_BACKEND: a front server with no local sessions forwards model runs to a second edge server process (the backend)
 * over the Open Inference Protocol, and keeps OCR, scheduling and status itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInferenceResponse, encodeInferenceRequest } from '../core/protocol/oip-codec';
import type { OcrResponse, StatusResponse } from '../core/protocol/v1';
import { renderTextImage, type TextImage } from '../test-support/text-image';
import { REPO_ROOT } from './config';
import { listen, type Listening } from './http/listen';
import { seededFloats, startTestEdge, type TestEdge } from './test/edge-fixture';
import { MODEL_DIR } from './test/paths';

const TOKEN = 'backend-token-0123456789abcdef';

let backend: ChildProcess;
let backendUrl: string;
let backendStatic: string;
let front: TestEdge;
let http: Listening;
let base: string;
let fixture: TextImage;

/** Starts `npm run serve`'s entry point as its own process on a free loopback port; resolves with its URL. */
function startBackend(): Promise<{ child: ChildProcess; url: string }> {
  backendStatic = mkdtempSync(join(tmpdir(), 'tandem-backend-web-'));
  // Node with the tsx loader, not the tsx command: that one runs the server in a child process the kill would miss.
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'edge-server/server.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      MODEL_DIR,
      STATIC_DIR: backendStatic,
      MODELS: 'ppocr-det,ppocr-cls,ppocr-rec',
      POOL_WORKERS: '1',
      ORT_INTRA_OP_THREADS: '1',
      LOG_LEVEL: 'warn',
      EDGE_TOKEN: TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}` });
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('exit', (code) => reject(new Error(`backend exited with ${code} before listening: ${err}`)));
  });
}

beforeAll(async () => {
  [{ child: backend, url: backendUrl }, fixture] = await Promise.all([
    startBackend(),
    renderTextImage({ lines: ['Tandem edge 2026'], width: 320, height: 96 }),
  ]);
  front = await startTestEdge({ EDGE_BACKEND: backendUrl, EDGE_BACKEND_TOKEN: TOKEN, EDGE_BACKEND_TIMEOUT_MS: '20000' });
  http = await listen(front.app, 0, '127.0.0.1');
  base = `http://127.0.0.1:${http.port}`;
}, 60_000);

afterAll(async () => {
  backend?.kill('SIGKILL');
  await http?.close(1000);
  await front?.dispose();
  if (backendStatic) rmSync(backendStatic, { recursive: true, force: true });
});

/** One request on its own connection, so a kept-alive socket from before the kill plays no part. */
function fresh(method: string, path: string, body?: Uint8Array): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, agent: false, headers: body ? { 'content-type': 'image/png' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const status = async () => (await (await fetch(`${base}/v1/status`)).json()) as StatusResponse;

describe('EDGE_BACKEND', () => {
  it('reports every manifest model ready on the backend, with the backend concurrency as workers', async () => {
    const s = await status();
    expect(s.models.map((m) => [m.name, m.state])).toEqual([
      ['ppocr-det', 'ready'],
      ['ppocr-cls', 'ready'],
      ['ppocr-rec', 'ready'],
    ]);
    expect(s.pool.workers).toBe(2);
  });

  it('reads a generated image exactly through the backend', async () => {
    const res = await fetch(`${base}/v1/ocr`, { method: 'POST', body: fixture.png as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'image/png' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as OcrResponse).lines.map((l) => l.text)).toEqual(fixture.lines);
    const det = (await status()).models.find((m) => m.name === 'ppocr-det')!;
    expect(det.runs).toBeGreaterThan(0);
  });

  it('answers OIP inference exactly as the backend does directly, and 404 for an unknown model', async () => {
    const body = encodeInferenceRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 64, 64], data: seededFloats(3 * 64 * 64, 3) }] })
      .body as string;
    const post = (url: string, headers: Record<string, string> = {}) =>
      fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    const [viaFront, direct] = await Promise.all([
      post(`${base}/v2/models/ppocr-det/infer`),
      post(`${backendUrl}/v2/models/ppocr-det/infer`, { authorization: `Bearer ${TOKEN}` }),
    ]);
    expect([viaFront.status, direct.status]).toEqual([200, 200]);
    const a = decodeInferenceResponse(await viaFront.text()).outputs[0];
    const b = decodeInferenceResponse(await direct.text()).outputs[0];
    expect(a.shape).toEqual(b.shape);
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(b.data as Float32Array));

    const unknown = await post(`${base}/v2/models/no-such-model/infer`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe('UnknownModel');
  });

  it('answers a clear 502/503 once the backend is killed mid-way, and keeps serving status', async () => {
    const inFlight = fetch(`${base}/v1/ocr`, { method: 'POST', body: fixture.png as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'image/png' } });
    await new Promise((r) => setTimeout(r, 20));
    const exited = new Promise((r) => backend.once('exit', r));
    backend.kill('SIGKILL');
    await exited;
    // The run in flight either finished before the kill or fails cleanly.
    const first = await inFlight;
    expect([200, 502, 503]).toContain(first.status);
    await first.arrayBuffer();

    const after = await fresh('POST', '/v1/ocr', fixture.png);
    expect([502, 503]).toContain(after.status);
    const err = JSON.parse(after.body) as { code: string; error: string };
    expect(err.code).toMatch(/^Backend(Unreachable|Unavailable)$/);
    expect(err.error).toContain(backendUrl);

    const s = await fresh('GET', '/v1/status');
    expect(s.status).toBe(200);
    const models = (JSON.parse(s.body) as StatusResponse).models;
    expect(models.every((m) => m.state === 'failed' && m.error?.includes(backendUrl))).toBe(true);
    expect((await fresh('GET', '/v2/health/ready')).status).toBe(503);
    expect((await fresh('GET', '/v2/health/live')).status).toBe(200);
  });
});
