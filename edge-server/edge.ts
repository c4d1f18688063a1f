/** Startup wiring shared by the server and the tests: repository → worker pool → OCR service → app. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { createApp } from './app';
import { REPO_ROOT, type EdgeConfig } from './config';
import { silentLogger, type Logger } from './log';
import { loadRepository, selectModels, workerModels, type ModelRepository } from './model-repository';
import { createOcrService } from './ocr-service';
import { SessionPool } from './runtime/pool';

export interface Edge {
  app: Hono;
  pool: SessionPool;
  repo: ModelRepository;
  /** Finishes queued and running inference, then stops the workers. */
  close(timeoutMs?: number): Promise<void>;
}

export async function startEdge(config: EdgeConfig, log: Logger = silentLogger): Promise<Edge> {
  const repo = selectModels(loadRepository(config.modelDir), config.models);
  const pool = await SessionPool.start({
    models: workerModels(repo), workers: config.poolWorkers, intraOpThreads: config.intraOpThreads, log,
  });
  try {
    const ocr = createOcrService(repo, pool);
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const app = createApp({ config, repo, pool, ocr, log, version, startedAt: Date.now() });
    return { app, pool, repo, close: (timeoutMs) => pool.close(timeoutMs) };
  } catch (e) {
    await pool.close(0);
    throw e;
  }
}
