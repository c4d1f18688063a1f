/** The HTTP surface of the edge server: routes only, so tests drive it with app.request() or over a real socket. */
import { Hono, type MiddlewareHandler } from 'hono';
import { SERVER_TIMING_HEADER, formatServerTiming } from '../core/protocol/server-timing';
import type { EdgeConfig } from './config';
import { ClientClosedError, ServerError, isClientError } from './http/errors';
import { bodyIdleTimeout, bodyStalled, errorReply } from './http/requests';
import { WeightedGate } from './limits/weighted-gate';
import { securityHeaders } from './http/security-headers';
import { bearerMiddleware, corsMiddleware, rateLimitMiddleware, type LimitsConfig } from './http/access';
import type { Logger } from './log';
import type { EdgeMetrics } from './http/metrics';
import type { ModelRepository } from './model-repository';
import type { OcrService } from './ocr/service';
import type { InferenceRunner } from './runtime/scheduled-runner';
import { v1OcrRoutes } from './routes/v1-ocr';
import { wholeRequestAdmission } from './ocr/admission-middleware';
import { v1StatusRoutes } from './routes/v1-status';
import { v1ProbeRoutes } from './routes/v1-probe';
import { v2Routes } from './routes/v2';
import { v2SharedMemoryRoutes } from './routes/v2-shared-memory';
import type { SharedMemoryRegistry } from './oip/shared-memory';
import { modelFileRoutes, webAppRoutes } from './routes/static';

export interface AppDeps {
  config: Pick<
    EdgeConfig,
    | 'staticDir'
    | 'maxBodyBytes'
    | 'maxImagePixels'
    | 'maxPixelsInFlight'
    | 'pixelWaitMs'
    | 'maxUnbudgeted'
    | 'maxOutputElements'
    | 'maxJsonOutputElements'
    | 'maxTensorBytes'
    | 'bodyIdleTimeoutMs'
  > &
    LimitsConfig;
  repo: ModelRepository;
  pool: InferenceRunner;
  ocr: OcrService;
  log: Logger;
  /** Server version reported by GET /v2. */
  version: string;
  /** Date.now() when the server started, for uptime. */
  startedAt: number;
  metrics?: EdgeMetrics;
  /** System shared memory regions (EDGE_SHARED_MEMORY); absent when off. */
  sharedMemory?: SharedMemoryRegistry;
}

/** The app with its /v1 routes typed (for hono/client's `hc<EdgeApp>`); /v2 follows the OIP spec instead. */
export type EdgeApp = ReturnType<typeof createApp>;

export function createApp(deps: AppDeps) {
  const app = new Hono();
  const { metrics } = deps;
  if (metrics) app.use('*', metrics.middleware);
  app.use('*', securityHeaders);

  // Cross-origin isolation is what lets the page run multi-threaded WebAssembly; every response carries it,
  // errors and API replies included, so nothing served from here can break isolation.
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    c.res.headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
    c.res.headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  });
  app.use('/v1/*', async (c, next) => {
    await next();
    c.res.headers.set('Timing-Allow-Origin', '*');
  });
  // Every API reply says how long it queued and took, refusals and errors included (they never queue).
  const timing: MiddlewareHandler = async (c, next) => {
    const t0 = performance.now();
    await next();
    if (!c.res.headers.has(SERVER_TIMING_HEADER)) {
      c.res.headers.set(
        SERVER_TIMING_HEADER,
        formatServerTiming([
          ['queue', 0],
          ['total', performance.now() - t0],
        ]),
      );
    }
  };
  app.use('/v1/*', timing);
  app.use('/v2/*', timing);
  app.use('/v2', timing);
  // Pages served elsewhere may call the API only when allowed (http/access.ts); the CORS layer answers preflights before
  // the token is checked, since browsers send preflights without credentials.
  const api = corsMiddleware(deps.config);
  app.use('/v1/*', api);
  app.use('/v2/*', api);
  app.use('/v2', api);
  const guards: MiddlewareHandler[] = [];
  if (deps.config.rateLimitPerS > 0) guards.push(rateLimitMiddleware(deps.config));
  if (deps.config.token) guards.push(bearerMiddleware(deps.config.token));
  for (const guard of guards) {
    // Health probes come from load balancers and orchestrators, which neither authenticate nor should be throttled.
    const apiOnly: MiddlewareHandler = (c, next) => (c.req.path.startsWith('/v2/health/') ? next() : guard(c, next));
    app.use('/v1/*', apiOnly);
    app.use('/v2/*', apiOnly);
    app.use('/v2', apiOnly);
  }
  // Metrics reveal load and traffic; Prometheus can send the same bearer token.
  if (deps.config.token) app.use('/metrics', bearerMiddleware(deps.config.token));

  if (metrics) {
    app.get('/metrics', async (c) =>
      c.body(await metrics.registry.metrics(), 200, {
        'Content-Type': metrics.registry.contentType,
        'Cache-Control': 'no-store',
      }),
    );
  }
  app.use('/v1/*', bodyIdleTimeout(deps.config.bodyIdleTimeoutMs));
  app.use('/v2/*', bodyIdleTimeout(deps.config.bodyIdleTimeoutMs));
  // Requests without a budget queue behind every budgeted one and are never refused for time: their number in
  // progress is bounded instead. Decoded images are bounded by their pixels across all requests.
  const unbudgeted = new WeightedGate(deps.config.maxUnbudgeted, 'requests without a budget in progress, EDGE_MAX_UNBUDGETED');
  const pixels = new WeightedGate(deps.config.maxPixelsInFlight, 'decoded image pixels in flight, EDGE_MAX_PIXELS_IN_FLIGHT');
  app.route('/v2', v2SharedMemoryRoutes(deps));
  app.route('/v2', v2Routes(deps, unbudgeted));
  // Whole-image OCR is admitted or refused on arrival, before its body is read.
  const ocrAdmission = wholeRequestAdmission(deps.pool, unbudgeted);
  const typed = app
    .route('/v1', v1OcrRoutes(deps, pixels, ocrAdmission.middleware))
    .route('/v1', v1StatusRoutes(deps, ocrAdmission.admission))
    .route('/v1', v1ProbeRoutes(deps));
  app.route('/models', modelFileRoutes(deps));
  app.route('/', webAppRoutes(deps));

  app.notFound((c) => errorReply(c, new ServerError('NotFound', `no route ${c.req.method} ${c.req.path}`)));
  app.onError((thrown, c) => {
    // Whatever failed once the client had gone (a body read cut short, a run withdrawn) is the client leaving.
    let err = thrown;
    if (bodyStalled(c.req.raw)) err = new ServerError('BodyTimeout', `the request body stopped arriving for ${deps.config.bodyIdleTimeoutMs} ms`);
    else if (c.req.raw.signal.aborted && err.name !== 'ClientClosed') err = new ClientClosedError('before its reply');
    if (err.name === 'ClientClosed' || err.name === 'BodyTimeout') {
      deps.log.info('request abandoned', { path: c.req.path, code: err.name, error: err.message });
      return errorReply(c, err);
    }
    // Deadline refusals, capacity limits and shutdown are the server working as designed, not failures.
    const expected = isClientError(err) || ['DeadlineUnmeetable', 'PoolClosed', 'Overloaded'].includes(err.name);
    if (expected) deps.log.debug('request refused', { path: c.req.path, code: err.name, error: err.message });
    else deps.log.error('request failed', { path: c.req.path, code: err.name, error: err.message, stack: err.stack });
    return errorReply(c, err);
  });
  return typed;
}
