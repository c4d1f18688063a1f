/**
 * Property-based fuzzing of the edge server as deployed (its own process on loopback, real models): a few hundred
 * generated requests over every surface. The longer run is `npm run fuzz -- --cases 10000`.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgeProcess, stopEdgeProcess, type EdgeProcess } from '../../test-support/edge-process';
import { blankImage, withDimensions } from './images';
import { formatCounts, judgeReply, prepareFuzzTarget, runFuzz, type FuzzTarget } from './run-fuzz';

const CASES = 600;
const SEED = 20261205;

describe('the fuzzer itself', () => {
  it('flags what must never happen and passes documented refusals', () => {
    const post = { kind: 'ocr' as const, method: 'POST', path: '/v1/ocr', headers: {} };
    const json = (status: number, code: string) => ({ status, type: 'application/json', body: JSON.stringify({ error: 'x', code }) });
    expect(judgeReply(post, json(503, 'Overloaded'))).toBeNull();
    expect(judgeReply(post, json(413, 'ImageTooLarge'))).toBeNull();
    expect(judgeReply(post, json(500, 'Error'))).toMatch(/500/);
    expect(judgeReply(post, json(503, 'WorkerCrashed'))).toMatch(/undocumented/);
    expect(judgeReply(post, json(499, 'ClientClosed'))).toMatch(/499/);
    expect(judgeReply(post, { status: 404, type: 'text/html', body: '<h1>404</h1>' })).toMatch(/JSON/);
    expect(judgeReply(post, { status: 400, type: 'application/json', body: JSON.stringify({ error: 'e\n    at f (x.ts:1:1)', code: 'BadRequest' }) })).toMatch(
      /insides/,
    );
    expect(judgeReply(post, { status: 200, type: 'text/plain', body: 'the secret' }, 'secret')).toMatch(/outside/);
    const nosniff = { 'x-content-type-options': 'nosniff' };
    const rebound = { ...post, headers: { origin: 'http://evil.example:8787' } };
    expect(judgeReply(rebound, { ...json(403, 'OriginNotAllowed'), headers: nosniff })).toBeNull();
    expect(
      judgeReply(rebound, {
        status: 200,
        type: 'application/json',
        body: '{}',
        headers: { ...nosniff, 'access-control-allow-origin': 'http://evil.example:8787' },
      }),
    ).toMatch(/CORS/);
    expect(judgeReply(post, { status: 200, type: 'application/json', body: '{}', headers: {} })).toMatch(/nosniff/);
  });

  it('damages image headers the way it says', async () => {
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      const claimed = withDimensions(await blankImage(40, 30, format), 6000, 6600);
      const meta = await sharp(Buffer.from(claimed)).metadata();
      expect([meta.width, meta.height], format).toEqual([6000, 6600]);
    }
  });
});

describe(`${CASES} generated requests against a server process`, () => {
  let target: FuzzTarget;
  let edge: EdgeProcess;
  beforeAll(async () => {
    target = prepareFuzzTarget();
    edge = await startEdgeProcess({ ...target.env, MODELS: 'ppocr-det,ppocr-cls,ppocr-rec' });
  });
  afterAll(async () => {
    if (edge) await stopEdgeProcess(edge);
    target?.dispose();
  });

  it('get no undocumented 5xx, a JSON error body for every error, no hang, and leave the server ready under the RSS ceiling', async () => {
    const report = await runFuzz({
      base: edge.base,
      pid: edge.child.pid!,
      cases: CASES,
      seed: SEED,
      batchSize: 100,
      concurrency: 4,
      secret: target.secret,
      shm: target.shm,
    });
    console.log(
      `fuzz: ${report.cases} cases in ${report.seconds.toFixed(1)} s, peak RSS ${(report.peakRssBytes / 1e9).toFixed(2)} GB\n${formatCounts(report)}`,
    );
    expect(report.failures.slice(0, 5)).toEqual([]);
    // The cases reach past the first checks: some run models, some are refused for each reason.
    expect(report.byKind.ocr?.['200'] ?? 0).toBeGreaterThan(0);
    expect(report.byKind['oip-json']?.['200'] ?? 0).toBeGreaterThan(0);
    expect(report.byKind['oip-binary']?.['200'] ?? 0).toBeGreaterThan(0);
    expect(report.byKind.static?.['200'] ?? 0).toBeGreaterThan(0);
    expect(report.byKind.shm?.['200'] ?? 0).toBeGreaterThan(0);
    expect(report.byStatus['400'] ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
