/** Startup wiring shared by the server and the tests: repository → worker pool (or remote backend) → OCR service → app. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp, type EdgeApp } from './app';
import { createMetrics, type EdgeMetrics } from './http/metrics';
import { REPO_ROOT, type EdgeConfig } from './config';
import { silentLogger, type Logger } from './log';
import { loadRepository, selectModels, workerModels, type ModelRepository } from './model-repository';
import { createOcrService, type OcrService } from './ocr/service';
import { SessionPool } from './runtime/pool';
import { RemoteRunner } from './runtime/remote';
import { SharedMemoryRegistry } from './oip/shared-memory';
import type { InferenceRunner } from './runtime/scheduled-runner';

export interface Edge {
  app: EdgeApp;
  /** Runs the models: local worker threads, or the EDGE_BACKEND server. */
  pool: InferenceRunner;
  repo: ModelRepository;
  ocr: OcrService;
  metrics: EdgeMetrics;
  /** Finishes queued and running inference, then stops the workers. */
  close(timeoutMs?: number): Promise<void>;
}

export async function startEdge(config: EdgeConfig, log: Logger = silentLogger): Promise<Edge> {
  const repo = selectModels(loadRepository(config.modelDir), config.models);
  const pool: InferenceRunner = config.backendUrl
    ? await RemoteRunner.start({
        url: config.backendUrl,
        models: repo.manifest.models,
        concurrency: config.backendConcurrency,
        timeoutMs: config.backendTimeoutMs,
        token: config.backendToken,
        log,
      })
    : await SessionPool.start({
        models: workerModels(repo),
        workers: config.poolWorkers,
        intraOpThreads: config.intraOpThreads,
        log,
        batching: { maxBatch: config.batchMaxSize, maxDelayMs: config.batchMaxDelayMs },
        padWidthModels: repo.manifest.models.filter((m) => m.task === 'text-recognition').map((m) => m.name),
      });
  try {
    const ocr = createOcrService(repo, pool);
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const metrics = createMetrics(pool);
    pool.onRun = metrics.observeRun;
    pool.onBatch = metrics.observeBatch;
    const sharedMemory = config.sharedMemory === 'off' ? undefined : new SharedMemoryRegistry({ dir: config.sharedMemoryDir });
    const app = createApp({ config, repo, pool, ocr, log, version, startedAt: Date.now(), metrics, sharedMemory });
    return {
      app,
      pool,
      repo,
      ocr,
      metrics,
      close: async (timeoutMs) => {
        await pool.close(timeoutMs);
        await ocr.close();
        sharedMemory?.close();
      },
    };
  } catch (e) {
    await pool.close(0);
    throw e;
  }
}
