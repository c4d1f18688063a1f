import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRepository, workerModels } from '../model-repository';
import { MODEL_DIR } from '../test/paths';
import { SessionPool } from './pool';
import type { RuntimeTensor } from './messages';

// The three base models are enough here; the repository may hold more variants.
const BASE = ['ppocr-det', 'ppocr-cls', 'ppocr-rec'];
const models = () => workerModels(loadRepository(MODEL_DIR)).filter((m) => BASE.includes(m.name));

const image = (h: number, w: number, fill = 0.5): RuntimeTensor => ({
  datatype: 'FP32',
  dims: [1, 3, h, w],
  data: new Float32Array(3 * h * w).fill(fill),
});

describe('SessionPool', () => {
  let pool: SessionPool;
  beforeAll(async () => {
    pool = await SessionPool.start({ models: models(), workers: 1, intraOpThreads: 1 });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('loads every manifest model and runs one, transferring the input away', async () => {
    expect(pool.isReady()).toBe(true);
    expect(pool.status().models.map((m) => [m.name, m.state])).toEqual([
      ['ppocr-det', 'ready'],
      ['ppocr-cls', 'ready'],
      ['ppocr-rec', 'ready'],
    ]);
    const input = image(48, 192);
    const { outputs, runMs, queueMs } = await pool.run('ppocr-cls', { x: input });
    expect(input.data.byteLength).toBe(0); // transferred, not copied
    const out = outputs['softmax_0.tmp_0'];
    expect(out.dims).toEqual([1, 2]);
    expect(out.data).toBeInstanceOf(Float32Array);
    const [a, b] = out.data as Float32Array;
    expect(a + b).toBeCloseTo(1, 4);
    expect(runMs).toBeGreaterThan(0);
    expect(queueMs).toBeGreaterThanOrEqual(0);
    const cls = pool.status().models.find((m) => m.name === 'ppocr-cls')!;
    expect(cls.latency).toEqual([expect.objectContaining({ size: '1x3x48x192', count: 1 })]);
  });

  it('queues work beyond the free workers and reports it', async () => {
    const runs = [0, 1, 2].map(() => pool.run('ppocr-cls', { x: image(48, 192) }));
    const during = pool.status();
    expect(during.pool.busy).toBe(1);
    expect(during.pool.queued).toBe(2);
    const cls = during.models.find((m) => m.name === 'ppocr-cls')!;
    expect([cls.inFlight, cls.queued]).toEqual([1, 2]);
    const results = await Promise.all(runs);
    expect(results[2].queueMs).toBeGreaterThan(0);
    expect(pool.status().pool).toEqual({ workers: 1, intraOpThreads: 1, busy: 0, queued: 0 });
  });

  it('reports a run the model rejects without losing the worker', async () => {
    const bad: RuntimeTensor = { datatype: 'FP32', dims: [3, 48, 192], data: new Float32Array(3 * 48 * 192) };
    await expect(pool.run('ppocr-cls', { x: bad })).rejects.toMatchObject({ name: 'InferenceFailed', message: /model rejected the input/ });
    await expect(pool.run('ppocr-cls', { x: image(48, 192) })).resolves.toBeTruthy();
  });

  it('fails the caller of a crashed worker clearly and replaces the worker', async () => {
    pool.crashWorker(0);
    const running = pool.run('ppocr-det', { x: image(64, 64) });
    const waiting = pool.run('ppocr-cls', { x: image(48, 192) });
    await expect(running).rejects.toMatchObject({ name: 'WorkerCrashed', message: /stopped unexpectedly.*retry/ });
    // The queued request survives and runs on the replacement worker.
    await expect(waiting).resolves.toMatchObject({ outputs: expect.any(Object) });
    expect(pool.isReady()).toBe(true);
  });

  it('rejects unknown models', async () => {
    await expect(pool.run('nope', { x: image(48, 192) })).rejects.toMatchObject({ name: 'UnknownModel' });
  });
});

describe('SessionPool shutdown', () => {
  it('finishes running work, then refuses new work', async () => {
    const pool = await SessionPool.start({ models: models(), workers: 1, intraOpThreads: 1 });
    const running = pool.run('ppocr-cls', { x: image(48, 192) });
    const closed = pool.close();
    await expect(pool.run('ppocr-cls', { x: image(48, 192) })).rejects.toMatchObject({ name: 'PoolClosed' });
    await expect(running).resolves.toBeTruthy();
    await closed;
    expect(pool.status().pool.workers).toBe(0);
  });
});
