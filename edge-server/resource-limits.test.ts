/**
 * Limits on what requests may make the server hold or do (decoded pixels, requests without a budget, OIP outputs and
 * tensor bytes), budgets of any size, strict budget parsing, admission after a burst, and security headers.
 * Real models and pool; limits set per app through the same config fields as the environment.
 */
import { request } from 'node:http';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_LENGTH_HEADER } from '../core/protocol/oip';
import { encodeInferenceRequest } from '../core/protocol/oip-codec';
import { BUDGET_HEADER, type StatusResponse } from '../core/protocol/v1';
import { renderTextImage, type TextImage } from '../test-support/text-image';
import { createApp } from './app';
import { parseConfig } from './config';
import { listen, type Listening } from './http/listen';
import { silentLogger } from './log';
import { WEB_APP_CSP } from './http/security-headers';
import { seededFloats, startTestEdge, type TestEdge } from './test/edge-fixture';

let edge: TestEdge;
let fixture: TextImage;
let square: TextImage;
const servers: Listening[] = [];

beforeAll(async () => {
  [edge, fixture, square] = await Promise.all([
    startTestEdge({ POOL_WORKERS: '1', ORT_INTRA_OP_THREADS: '1' }),
    renderTextImage({ lines: ['Limits 42'], width: 320, height: 96 }),
    renderTextImage({ lines: ['Pixels in flight'], width: 800, height: 800 }),
  ]);
});
afterAll(async () => {
  for (const s of servers) await s.close(1000);
  await edge?.dispose();
});

function appWith(env: Record<string, string>): Hono {
  const c = parseConfig({ MAX_IMAGE_PIXELS: String(edge.config.maxImagePixels), ...env });
  const config = {
    ...edge.config,
    maxPixelsInFlight: c.maxPixelsInFlight,
    pixelWaitMs: c.pixelWaitMs,
    maxUnbudgeted: c.maxUnbudgeted,
    maxOutputElements: c.maxOutputElements,
    maxJsonOutputElements: c.maxJsonOutputElements,
    maxTensorBytes: c.maxTensorBytes,
  };
  return createApp({ config, repo: edge.repo, pool: edge.pool, ocr: edge.ocr, log: silentLogger, version: 't', startedAt: Date.now() });
}

async function serve(app: Hono): Promise<string> {
  const http = await listen(app, 0, '127.0.0.1');
  servers.push(http);
  return `http://127.0.0.1:${http.port}`;
}

const ocr = (base: string, image: TextImage, headers: Record<string, string> = {}) =>
  fetch(`${base}/v1/ocr`, { method: 'POST', body: image.png as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'image/png', ...headers } });

const runsOf = async (app: Hono) => ((await (await app.request('/v1/status')).json()) as StatusResponse).models.reduce((n, m) => n + (m.runs ?? 0), 0);

describe('requests without a budget (EDGE_MAX_UNBUDGETED)', () => {
  it('are refused with 503 and Retry-After past the limit, while budgeted requests still go through', async () => {
    const base = await serve(appWith({ EDGE_MAX_UNBUDGETED: '1' }));
    // One request without a budget holds the only place: its body is still arriving.
    const held = request(`${base}/v1/ocr`, { method: 'POST', headers: { 'content-type': 'image/png', 'content-length': fixture.png.length } });
    held.on('error', () => {});
    held.write(fixture.png.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 200));
    const refused = await ocr(base, fixture);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ code: 'Overloaded', error: expect.stringMatching(/EDGE_MAX_UNBUDGETED/) });
    expect((await ocr(base, fixture, { [BUDGET_HEADER]: '60000' })).status).toBe(200);
    held.destroy();
    let after: Response | null = null;
    for (let i = 0; i < 50 && after?.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await ocr(base, fixture);
    }
    expect(after?.status).toBe(200);
  }, 60_000);
});

describe('decoded pixels in flight (EDGE_MAX_PIXELS_IN_FLIGHT)', () => {
  it('refuses images past the budget at once without a wait, and queues them briefly with one', async () => {
    // Room for one 800×800 image at a time (640 000 pixels of 1 000 000).
    const strict = await serve(appWith({ EDGE_MAX_PIXELS_IN_FLIGHT: '1000000', EDGE_PIXEL_WAIT_MS: '0' }));
    const codes = await Promise.all(
      Array.from({ length: 4 }, () =>
        ocr(strict, square).then(async (r) => {
          const body = (await r.json()) as { code?: string };
          return r.status === 200 ? 'ok' : `${r.status} ${body.code} ${r.headers.get('retry-after')}`;
        }),
      ),
    );
    expect(codes).toContain('ok');
    expect(codes.filter((c) => c !== 'ok').length).toBeGreaterThan(0);
    expect(codes.filter((c) => c !== 'ok').every((c) => c === '503 Overloaded 1')).toBe(true);

    const patient = await serve(appWith({ EDGE_MAX_PIXELS_IN_FLIGHT: '1000000', EDGE_PIXEL_WAIT_MS: '60000' }));
    const statuses = await Promise.all(Array.from({ length: 4 }, () => ocr(patient, square).then((r) => r.status)));
    expect(statuses).toEqual([200, 200, 200, 200]);
  }, 120_000);
});

describe('OIP inference limits', () => {
  const DET = 'ppocr-det';
  const REC = 'ppocr-rec';
  const infer = (app: Hono, model: string, shape: number[], binary: boolean) => {
    const wire = encodeInferenceRequest(
      {
        inputs: [{ name: 'x', datatype: 'FP32', shape, data: seededFloats(shape.reduce((a, b) => a * b, 1)) }],
        parameters: binary ? { binary_data_output: true } : {},
      },
      { binaryInputs: true },
    );
    return app.request(`/v2/models/${model}/infer`, {
      method: 'POST',
      body: wire.body as Uint8Array<ArrayBuffer>,
      headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(wire.headerLength) },
    });
  };

  it('refuses a detector map over the output limit before running it, in JSON only when only JSON is limited', async () => {
    const app = appWith({ EDGE_MAX_JSON_OUTPUT_ELEMENTS: '5000' });
    const before = await runsOf(app);
    const json = await infer(app, DET, [1, 3, 96, 96], false); // 9216 output elements
    expect(json.status).toBe(413);
    expect(await json.json()).toMatchObject({ code: 'OutputTooLarge', error: expect.stringMatching(/9216 elements.*EDGE_MAX_JSON_OUTPUT_ELEMENTS.*binary/) });
    expect(await runsOf(app)).toBe(before); // judged from the shapes: nothing ran
    expect((await infer(app, DET, [1, 3, 96, 96], true)).status).toBe(200);
    const strict = appWith({ EDGE_MAX_OUTPUT_ELEMENTS: '5000' });
    expect(await (await infer(strict, DET, [1, 3, 96, 96], true)).json()).toMatchObject({ code: 'OutputTooLarge' });
  });

  it('refuses recognition outputs over the limit once their size is known, before encoding them', async () => {
    const app = appWith({ EDGE_MAX_JSON_OUTPUT_ELEMENTS: '100000' });
    const before = await runsOf(app);
    const res = await infer(app, REC, [1, 3, 48, 320], false); // 40 × 6625 output elements
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'OutputTooLarge', error: expect.stringMatching(/265000 elements/) });
    expect(await runsOf(app)).toBe(before + 1); // the output shape is not fixed by the input's: known after the run
    expect((await infer(app, REC, [1, 3, 48, 320], true)).status).toBe(200);
  });

  it('refuses requests whose tensors would take more than EDGE_MAX_TENSOR_BYTES', async () => {
    const app = appWith({ EDGE_MAX_TENSOR_BYTES: '100000' });
    const res = await infer(app, DET, [1, 3, 96, 96], true); // 110 592 bytes in, 36 864 out
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'TensorTooLarge', error: expect.stringMatching(/147456 bytes/) });
    expect((await infer(app, DET, [1, 3, 64, 64], true)).status).toBe(200);
  });
});

describe('budgets', () => {
  it('accepts any finite budget, however large, and refuses malformed ones with 400', async () => {
    const app = appWith({});
    const post = (budget: string) =>
      app.request('/v1/ocr', {
        method: 'POST',
        body: fixture.png as Uint8Array<ArrayBuffer>,
        headers: { 'content-type': 'image/png', [BUDGET_HEADER]: budget },
      });
    for (const budget of ['3000000000', '3e9', '1e300']) {
      const res = await post(budget);
      expect(res.status, budget).toBe(200);
      expect(((await res.json()) as { lines: Array<{ text: string }> }).lines.map((l) => l.text)).toEqual(fixture.lines);
    }
    for (const budget of ['12abc', '-5', 'NaN', 'Infinity', '0x10', '', ' ', '1e999']) {
      const res = await post(budget);
      expect(res.status, budget).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'BadRequest', error: expect.stringMatching(/x-tandem-budget-ms/) });
    }
    const wire = encodeInferenceRequest(
      {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 64, 64], data: seededFloats(3 * 64 * 64) }],
        parameters: { deadline_ms: 3e9, binary_data_output: true },
      },
      { binaryInputs: true },
    );
    const oip = await app.request('/v2/models/ppocr-det/infer', {
      method: 'POST',
      body: wire.body as Uint8Array<ArrayBuffer>,
      headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(wire.headerLength) },
    });
    expect(oip.status).toBe(200);
  });

  it('admits a budgeted request that fits on an idle server after a burst of requests without a budget', async () => {
    // Room for the whole burst without a budget (the default admits 32 at once).
    const app = appWith({ EDGE_MAX_UNBUDGETED: '64' });
    const post = (headers: Record<string, string> = {}) =>
      app.request('/v1/ocr', {
        method: 'POST',
        body: fixture.png as Uint8Array<ArrayBuffer>,
        headers: { 'content-type': 'image/png', ...headers },
      });
    // Lone runs, then a burst in which each request's time includes every other's work on the same cores.
    const lone: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      expect((await post()).status).toBe(200);
      lone.push(performance.now() - t0);
    }
    // Long enough that its median request waits behind many times a lone run's work whatever the cores: with 16,
    // on two cores, the median waited about four lone runs, level with the budget below.
    const burst = await Promise.all(
      Array.from({ length: 48 }, async () => {
        const t0 = performance.now();
        const res = await post();
        expect(res.status).toBe(200);
        return performance.now() - t0;
      }),
    );
    const budget = Math.round(Math.max(...lone) * 4 + 100);
    // The burst's median request took several times the budget: judged on it, the next request would be refused.
    expect(burst.sort((a, b) => a - b)[24]).toBeGreaterThan(budget);
    const res = await post({ [BUDGET_HEADER]: String(budget) });
    expect(res.status, await res.clone().text()).toBe(200);
  }, 120_000);
});

describe('security headers', () => {
  it('sends the web app with a CSP and every response with nosniff and no framing', async () => {
    const app = appWith({});
    const page = await app.request('/');
    expect(page.headers.get('content-security-policy')).toBe(WEB_APP_CSP);
    expect(WEB_APP_CSP).toMatch(/frame-ancestors 'none'/);
    expect(WEB_APP_CSP).toMatch(/script-src 'self' 'wasm-unsafe-eval'(;|$)/);
    for (const path of ['/', '/client/route', '/assets/app-1a2b3c.js', '/v1/status', '/v2/health/live', '/models/manifest.json', '/v2/models/nope']) {
      const res = await app.request(path);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      if (!path.startsWith('/') || /^\/(v1|v2|models|assets)\//.test(path)) expect(res.headers.get('content-security-policy'), path).toBeNull();
    }
  });
});
