/**
 * Prometheus metrics (prom-client) on GET /metrics. Each server owns its registry, so several servers in one process
 * (tests, a backend beside a front) do not mix their counts. Pool state is read at scrape time, not mirrored.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { InferenceRunner } from '../runtime/scheduled-runner';

/** Error codes of replies by request context (responses get rebuilt by later middleware), so counts carry the outcome. */
const replyCodes = new WeakMap<Context, string>();

export function noteReplyCode(c: Context, code: string): void {
  replyCodes.set(c, code);
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface EdgeMetrics {
  registry: Registry;
  /** Counts and times every request by route and outcome. */
  middleware: MiddlewareHandler;
  /** Records one finished model run (called by the pool). */
  observeRun(model: string, runMs: number, queueMs: number): void;
  /** Records how many callers shared one model run (dynamic batching). */
  observeBatch(model: string, callers: number): void;
}

export function createMetrics(pool: InferenceRunner): EdgeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'tandem_http_requests_total',
    help: 'HTTP requests by route, method and outcome (ok or the error code)',
    labelNames: ['route', 'method', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tandem_http_request_duration_seconds',
    help: 'HTTP request latency, from arrival to the reply headers',
    labelNames: ['route', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const runSeconds = new Histogram({
    name: 'tandem_model_run_seconds',
    help: 'Model execution time inside an inference worker',
    labelNames: ['model'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const queueSeconds = new Histogram({
    name: 'tandem_model_queue_seconds',
    help: 'Time a model run waited for a free worker',
    labelNames: ['model'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'tandem_batch_size',
    help: 'Callers (requests or pipeline stages) sharing one model run',
    labelNames: ['model'] as const,
    buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32],
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'tandem_deadline_refusals_total',
    help: 'Model runs refused or dropped from the queue because they could not meet their budget',
    labelNames: ['model'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const m of pool.status().models) this.inc({ model: m.name }, m.refused ?? 0);
    },
  });
  void refusals;
  new Gauge({
    name: 'tandem_queue_depth',
    help: 'Model runs waiting for a worker',
    labelNames: ['model'] as const,
    registers: [registry],
    collect() {
      for (const m of pool.status().models) this.set({ model: m.name }, m.queued);
    },
  });
  new Gauge({
    name: 'tandem_predicted_wait_seconds',
    help: 'Predicted wait before a run submitted now (without budget) starts',
    registers: [registry],
    collect() {
      this.set(pool.predictedWaitMs() / 1000);
    },
  });
  new Gauge({
    name: 'tandem_pool_workers',
    help: 'Inference workers by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const p = pool.status().pool;
      this.set({ state: 'live' }, p.workers);
      this.set({ state: 'busy' }, p.busy);
    },
  });
  new Gauge({
    name: 'tandem_model_state',
    help: 'Model load state: 1 for the current state of each model',
    labelNames: ['model', 'state'] as const,
    registers: [registry],
    collect() {
      for (const m of pool.status().models) {
        for (const state of ['loading', 'ready', 'failed']) this.set({ model: m.name, state }, m.state === state ? 1 : 0);
      }
    },
  });

  const middleware: MiddlewareHandler = async (c, next) => {
    const t0 = performance.now();
    await next();
    const route = routeLabel(c);
    const outcome = c.res.status < 400 ? 'ok' : (replyCodes.get(c) ?? `http_${c.res.status}`);
    requests.inc({ route, method: c.req.method, outcome });
    duration.observe({ route, outcome }, (performance.now() - t0) / 1000);
  };

  return {
    registry,
    middleware,
    observeRun(model, runMs, queueMs) {
      runSeconds.observe({ model }, runMs / 1000);
      queueSeconds.observe({ model }, queueMs / 1000);
    },
    observeBatch(model, callers) {
      batchSize.observe({ model }, callers);
    },
  };
}

/** A bounded set of route labels: model names and file paths are not turned into label values. */
function routeLabel(c: Context): string {
  const path = c.req.path;
  const oip = /^\/v2\/models\/[^/]+(?:\/versions\/[^/]+)?(\/ready|\/infer)?$/.exec(path);
  if (oip) return `/v2/models/{model}${oip[1] ?? ''}`;
  if (['/v1/ocr', '/v1/status', '/v2', '/v2/health/live', '/v2/health/ready', '/metrics'].includes(path)) return path;
  if (path.startsWith('/models/')) return '/models/{file}';
  if (path.startsWith('/v1/') || path.startsWith('/v2/')) return 'api_other';
  return 'web_app';
}
