import { hc } from 'hono/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EdgeApp } from './app';
import { startTestEdge, type TestEdge } from './test/edge-fixture';

let edge: TestEdge;

beforeAll(async () => {
  edge = await startTestEdge();
}, 60_000);
afterAll(() => edge?.dispose());

describe('typed client over the exported app type', () => {
  it('reads /v1/status and /v1/probe with the reply types the routes declare', async () => {
    const client = hc<EdgeApp>('http://edge.test', {
      fetch: (input: string | URL | Request, init?: RequestInit) => edge.app.request(input instanceof Request ? input : String(input), init),
    });
    const status = await client.v1.status.$get();
    expect(status.status).toBe(200);
    const body = await status.json();
    expect(body.models.map((m) => m.name)).toEqual(['ppocr-det', 'ppocr-cls', 'ppocr-rec']);
    expect(body.pool.workers).toBe(1);
    const probe = await client.v1.probe.$get({ query: { bytes: '1000' } });
    expect((await probe.arrayBuffer()).byteLength).toBe(1000);
  });
});
