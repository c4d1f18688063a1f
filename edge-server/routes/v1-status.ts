/** GET /v1/status: what clients predict the edge from (model states, queue, recent latency per input size). */
import { Hono } from 'hono';
import type { StatusResponse } from '../../core/protocol/v1';
import type { AppDeps } from '../app';
import type { RequestAdmission } from '../ocr/request-admission';

export function v1StatusRoutes(deps: AppDeps, ocrAdmission: RequestAdmission) {
  return new Hono().get('/status', (c) => {
    const s = deps.pool.status();
    const body: StatusResponse = {
      serverTime: Date.now(),
      uptimeMs: Date.now() - deps.startedAt,
      models: s.models.map((m) => {
        const entry = deps.repo.models.get(m.name)!;
        return { ...m, version: entry.version, variant: entry.variant };
      }),
      pool: s.pool,
      ocr: {
        inProgress: ocrAdmission.active,
        predictedWaitMs: Math.round(ocrAdmission.predictedWaitMs(true) * 10) / 10,
        calibration: Math.round(ocrAdmission.calibration() * 100) / 100,
      },
    };
    c.header('Cache-Control', 'no-store');
    return c.json(body);
  });
}
