import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { parseConfig, ConfigError } from '../config';
import { listen, type Listening } from './listen';
import { silentLogger } from '../log';
import { startTestEdge, type TestEdge } from '../test/edge-fixture';

// One pool shared by several apps, each with its own access settings.
let edge: TestEdge;
beforeAll(async () => {
  edge = await startTestEdge();
});
afterAll(async () => {
  await edge?.dispose();
});

const TOKEN = 'abcdefghijklmnop-0123456789';

function appWith(env: Record<string, string>): Hono {
  const config = { ...edge.config, ...pick(parseConfig(env)) };
  return createApp({ config, repo: edge.repo, pool: edge.pool, ocr: edge.ocr, log: silentLogger, version: 't', startedAt: Date.now() });
}
const pick = (c: ReturnType<typeof parseConfig>) => ({
  token: c.token,
  corsOrigins: c.corsOrigins,
  rateLimitPerS: c.rateLimitPerS,
  rateBurst: c.rateBurst,
  trustProxy: c.trustProxy,
  publicOrigins: c.publicOrigins,
});

describe('bearer token (EDGE_TOKEN)', () => {
  it('guards /v1, /v2 and /metrics but not health or the web app', async () => {
    const app = appWith({ EDGE_TOKEN: TOKEN });
    const none = await app.request('/v1/status');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.headers.get('server-timing')).toMatch(/queue;dur=/);
    expect(await none.json()).toMatchObject({ code: 'Unauthorized', error: expect.stringMatching(/Authorization: Bearer/) });
    const wrong = await app.request('/v2/models/ppocr-det', { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(await wrong.json()).toMatchObject({ code: 'Unauthorized', error: expect.stringMatching(/not valid/) });
    expect((await app.request('/v2/models/ppocr-det', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await app.request('/v1/status', { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    expect((await app.request('/v2/health/ready')).status).toBe(200);
    expect((await app.request('/v2/health/live')).status).toBe(200);
    expect((await app.request('/')).status).toBe(200);
    expect((await app.request('/models/manifest.json')).status).toBe(200);
  });

  it('lets CORS preflights through without the token', async () => {
    const app = appWith({ EDGE_TOKEN: TOKEN });
    const res = await app.request('/v1/ocr', {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    // Every request header the page sends to /v1/ocr.
    for (const h of ['x-tandem-budget-ms', 'x-tandem-image-size', 'x-tandem-late-answer', 'x-tandem-escalate'])
      expect(res.headers.get('access-control-allow-headers')).toContain(h);
  });

  it('refuses weak tokens at startup', () => {
    expect(() => parseConfig({ EDGE_TOKEN: 'short' })).toThrow(ConfigError);
  });
});

describe('CORS allow-list (EDGE_CORS_ORIGINS)', () => {
  const call = (app: Hono, origin: string) => app.request('/v1/status', { headers: { origin, host: 'edge.example:8787' } });

  it('by default allows the configured public origins and local development pages only', async () => {
    const app = appWith({ EDGE_PUBLIC_ORIGINS: 'http://edge.example:8787' });
    for (const origin of ['http://edge.example:8787', 'http://localhost:5173', 'http://127.0.0.1:4173']) {
      const res = await call(app, origin);
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    }
    const res = await call(app, 'https://evil.example');
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(await res.json()).toMatchObject({ code: 'OriginNotAllowed', error: expect.stringMatching(/EDGE_CORS_ORIGINS/) });
    expect((await app.request('/v1/status')).status).toBe(200); // no Origin: not a browser page, nothing to check
  });

  it("does not take the Host header the client sent as this server's origin (DNS rebinding)", async () => {
    const app = appWith({});
    const res = await call(app, 'http://edge.example:8787'); // Host: edge.example:8787, as a rebound name sends it
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows exactly the listed origins when set, or any with *', async () => {
    const app = appWith({ EDGE_CORS_ORIGINS: 'https://ocr.example.com, https://app.example.org/' });
    expect((await call(app, 'https://ocr.example.com')).headers.get('access-control-allow-origin')).toBe('https://ocr.example.com');
    expect((await call(app, 'https://app.example.org')).status).toBe(200);
    expect((await call(app, 'http://localhost:5173')).status).toBe(403);
    expect((await call(app, 'https://ocr.example.com.evil.example')).status).toBe(403);
    const any = appWith({ EDGE_CORS_ORIGINS: '*' });
    expect((await call(any, 'https://anywhere.example')).status).toBe(200);
    expect(() => parseConfig({ EDGE_CORS_ORIGINS: 'ocr.example.com' })).toThrow(/EDGE_CORS_ORIGINS/);
  });
});

describe('same origin on a socket: the address and port the connection arrived at', () => {
  let http: Listening;
  afterAll(async () => {
    await http?.close(1000);
  });

  it('allows the page of this address and its localhost forms, and refuses a rebound name with a matching Host', async () => {
    http = await listen(appWith({ EDGE_CORS_ORIGINS: 'https://ocr.example.com' }), 0, '127.0.0.1');
    const from = (origin: string, host = `127.0.0.1:${http.port}`) => fetch(`http://127.0.0.1:${http.port}/v1/status`, { headers: { origin, host } });
    for (const origin of [`http://127.0.0.1:${http.port}`, `http://localhost:${http.port}`]) {
      const res = await from(origin);
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    }
    const rebound = await from(`http://evil.example:${http.port}`, `evil.example:${http.port}`);
    expect(rebound.status).toBe(403);
    expect(await rebound.json()).toMatchObject({ code: 'OriginNotAllowed' });
    expect((await from(`http://127.0.0.1:${http.port + 1}`)).status).toBe(403); // another port is another origin
    expect((await from(`https://127.0.0.1:${http.port}`)).status).toBe(403);
  });
});

describe('per-client rate limit (EDGE_RATE_LIMIT, EDGE_RATE_BURST) on a socket', () => {
  let http: Listening;
  afterAll(async () => {
    await http?.close(1000);
  });

  it('answers 429 with Retry-After past the burst, per client, never on health', async () => {
    http = await listen(appWith({ EDGE_RATE_LIMIT: '1', EDGE_RATE_BURST: '3', EDGE_TRUST_PROXY: '1' }), 0, '127.0.0.1');
    const get = (path: string, client = '203.0.113.7') => fetch(`http://127.0.0.1:${http.port}${path}`, { headers: { 'x-forwarded-for': client } });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await get('/v1/status')).status);
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await get('/v2/models/ppocr-det');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ code: 'RateLimited' });
    expect(limited.headers.get('server-timing')).toMatch(/^queue;dur=0\.0, total;dur=/);
    expect((await get('/v2/health/ready')).status).toBe(200);
    expect((await get('/v1/status', '198.51.100.1')).status).toBe(200);
  });

  it('is off by default', () => {
    expect(parseConfig({}).rateLimitPerS).toBe(0);
  });
});
