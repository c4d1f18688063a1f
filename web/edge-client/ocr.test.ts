import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgeOcr } from './ocr';

// A loopback server answering like the edge does in each situation; the client under test is the real one.
let server: Server;
let baseUrl: string;
const seen: { budget?: string; late?: string; type?: string; bytes: number; query: string }[] = [];

function route(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const url = new URL(req.url!, 'http://x');
  seen.push({
    budget: req.headers['x-tandem-budget-ms'] as string | undefined,
    late: req.headers['x-tandem-late-answer'] as string | undefined,
    type: req.headers['content-type'],
    bytes: body.length,
    query: url.search,
  });
  const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(value));
  };
  if (url.pathname === '/ok/v1/ocr') {
    return json(
      200,
      { lines: [], timings: {}, server: { decode: 1, queue: 0, total: 9 }, models: { det: 'd', cls: 'c', rec: 'r' } },
      {
        'server-timing': 'decode;dur=1.5,det;dur=4,rec;dur=3,total;dur=9',
      },
    );
  }
  if (url.pathname === '/bad/v1/ocr') return json(415, { error: 'body is not an image (expected image/jpeg, image/png or image/webp)' });
  if (url.pathname === '/busy/v1/ocr') return json(503, { error: 'queue full' });
  if (url.pathname === '/html/v1/ocr') {
    res.writeHead(502, { 'content-type': 'text/html' });
    return void res.end('<h1>Bad gateway</h1>');
  }
  if (url.pathname === '/stall/v1/ocr') {
    // Headers and half a body, then nothing.
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.write('{"lines": [');
  }
  // '/slow': never answers.
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => route(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const image = new Blob([new Uint8Array(1234)], { type: 'image/png' });

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('edgeOcr', () => {
  it('posts the image with budget and options, and reads Server-Timing', async () => {
    const reply = await edgeOcr(image, { baseUrl: `${baseUrl}/ok/`, budgetMs: 812.4, maxSide: 640, useCls: false });
    expect(seen.at(-1)).toEqual({ budget: '812', late: undefined, type: 'image/png', bytes: 1234, query: '?maxSide=640&cls=0' });
    await edgeOcr(image, { baseUrl: `${baseUrl}/ok/`, budgetMs: 500, lateAnswer: true });
    expect(seen.at(-1)).toMatchObject({ budget: '500', late: 'wanted' });
    expect(reply.serverTiming).toEqual({ decode: 1.5, det: 4, rec: 3, total: 9 });
    expect(reply.response.models.rec).toBe('r');
    expect(reply.uploadBytes).toBe(1234);
    expect(reply.roundTripMs).toBeGreaterThan(0);
  });

  it("reports a rejected request (4xx) with the server's own message", async () => {
    const error = await failure(edgeOcr(image, { baseUrl: `${baseUrl}/bad/` }));
    expect(error.name).toBe('EdgeRejected');
    expect(error.message).toBe('The edge server answered 415: body is not an image (expected image/jpeg, image/png or image/webp)');
  });

  it('reports server trouble (5xx) as EdgeFailed, with or without a JSON body', async () => {
    expect(await failure(edgeOcr(image, { baseUrl: `${baseUrl}/busy/` }))).toMatchObject({
      name: 'EdgeFailed',
      message: 'The edge server answered 503: queue full',
    });
    expect((await failure(edgeOcr(image, { baseUrl: `${baseUrl}/html/` }))).name).toBe('EdgeFailed');
  });

  it('gives up after its deadline', async () => {
    const error = await failure(edgeOcr(image, { baseUrl: `${baseUrl}/slow/`, timeoutMs: 200 }));
    expect(error.name).toBe('EdgeTimeout');
    expect(error.message).toContain('within 200 ms');
  });

  it('times out as EdgeTimeout when the reply stalls after its headers', async () => {
    const error = await failure(edgeOcr(image, { baseUrl: `${baseUrl}/stall/`, timeoutMs: 200 }));
    expect(error.name).toBe('EdgeTimeout');
  });

  it('tells an unreachable server apart', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(edgeOcr(image, { baseUrl: `http://127.0.0.1:${port}` }));
    expect(error.name).toBe('EdgeUnreachable');
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });

  it("leaves a caller's own abort as it is", async () => {
    const controller = new AbortController();
    const pending = edgeOcr(image, { baseUrl: `${baseUrl}/slow/`, signal: controller.signal });
    controller.abort();
    expect((await failure(pending)).name).toBe('AbortError');
  });
});
