import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServerTiming } from '../../core/protocol/server-timing';
import { errorReply } from '../http/requests';
import { startTestEdge, type TestEdge } from '../test/edge-fixture';
import type { ProbeReply } from '../../core/protocol/v1';
import { PROBE_MAX_BYTES, v1ProbeRoutes } from './v1-probe';

// The route alone on a real loopback socket, so the body really streams in.
let server: ServerType;
let base: string;
let app: Hono;

beforeAll(async () => {
  app = new Hono().route('/v1', v1ProbeRoutes({ config: { maxBodyBytes: 20 * 1024 * 1024 } as never }));
  // Errors answer as the edge app answers them.
  app.onError((err, c) => errorReply(c, err));
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('POST /v1/probe', () => {
  it('counts the body it discards and splits its time into read and proc', async () => {
    const body = new Uint8Array(48 * 1024).fill(7);
    const res = await fetch(`${base}/v1/probe`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(200);
    const reply = (await res.json()) as ProbeReply;
    expect(reply.bytes).toBe(body.byteLength);
    const timing = parseServerTiming(res.headers.get('server-timing'));
    expect(Object.keys(timing).sort()).toEqual(['proc', 'read', 'total']);
    expect(timing.total).toBeGreaterThanOrEqual(timing.read);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers an empty probe', async () => {
    const res = await fetch(`${base}/v1/probe`, { method: 'POST' });
    expect(await res.json()).toMatchObject({ bytes: 0 });
  });

  it('refuses bodies larger than a probe needs, naming the limit', async () => {
    const res = await fetch(`${base}/v1/probe`, { method: 'POST', body: new Uint8Array(PROBE_MAX_BYTES + 1) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('BodyTooLarge');
  });
});

describe('GET /v1/probe', () => {
  it('answers the asked number of bytes, uncompressible, uncached, with its own time', async () => {
    const res = await fetch(`${base}/v1/probe?bytes=50000`);
    expect(res.status).toBe(200);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.byteLength).toBe(50_000);
    // Random bytes: no value dominates (a zero-filled body would compress to almost nothing on the way).
    const zeros = body.filter((b) => b === 0).length;
    expect(zeros).toBeLessThan(1000);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(parseServerTiming(res.headers.get('server-timing'))).toHaveProperty('proc');
  });

  it('refuses sizes it does not serve, naming the limit', async () => {
    // In process: the 413 above leaves a socket the server closed in the client's pool.
    for (const bytes of ['-1', 'lots', String(PROBE_MAX_BYTES + 1)]) {
      const res = await app.request(`/v1/probe?bytes=${bytes}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain(String(PROBE_MAX_BYTES));
    }
  });
});

describe('the edge app', () => {
  let edge: TestEdge;
  beforeAll(async () => {
    edge = await startTestEdge();
  });
  afterAll(async () => {
    await edge?.dispose();
  });

  it('serves the probe beside the other /v1 routes, keeping its own Server-Timing', async () => {
    const res = await edge.app.request('/v1/probe', { method: 'POST', body: new Uint8Array(1000) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ bytes: 1000 });
    expect(parseServerTiming(res.headers.get('server-timing'))).toHaveProperty('read');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });
});
