import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EdgeError } from '../edge-client/ocr';
import { edgeRecInfer, type EdgeRecStats } from './edge-rec';

// A loopback server refusing as the edge's deadline admission does; the client under test is the real one.
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' });
      res.end(
        JSON.stringify({ error: 'predicted completion in 572 ms exceeds the budget of 537 ms', code: 'DeadlineUnmeetable', predicted_ms: 572, budget_ms: 537 }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('edgeRecInfer', () => {
  it('a refused recognition carries the edge’s predicted time, its budget and Retry-After', async () => {
    const stats: EdgeRecStats = { requests: 0, elapsedMs: 0, uploadBytes: 0, downloadBytes: 0, serverMs: 0, queueMs: 0 };
    const infer = edgeRecInfer(baseUrl, { name: 'ppocr-rec', inputs: ['x'], output: 'y' }, performance.now() + 600, new AbortController().signal, stats);
    const error = (await infer('rec', { data: new Float32Array(3 * 48 * 8), dims: [1, 3, 48, 8] }).catch((e: unknown) => e)) as EdgeError;
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(503);
    expect(error.message).toContain('to recognition');
    expect({ predictedMs: error.predictedMs, budgetMs: error.budgetMs, retryAfterMs: error.retryAfterMs }).toEqual({
      predictedMs: 572,
      budgetMs: 537,
      retryAfterMs: 2000,
    });
    expect(stats.requests).toBe(0);
  });
});
