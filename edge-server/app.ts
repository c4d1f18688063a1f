/** The HTTP surface of the edge server: routes only, so tests drive it with app.request() or over a real socket. */
import { Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { EdgeConfig } from './config';
import { ServerError, isClientError } from './errors';
import { errorReply } from './http';
import type { Logger } from './log';
import type { EdgeMetrics } from './metrics';
import type { ModelRepository } from './model-repository';
import type { OcrService } from './ocr-service';
import type { SessionPool } from './runtime/pool';
import { v1OcrRoutes } from './routes/v1-ocr';
import { v1StatusRoutes } from './routes/v1-status';
import { v2Routes } from './routes/v2';
import { modelFileRoutes, webAppRoutes } from './routes/static';

export interface AppDeps {
  config: Pick<EdgeConfig, 'staticDir' | 'maxBodyBytes' | 'maxImagePixels'>;
  repo: ModelRepository;
  pool: SessionPool;
  ocr: OcrService;
  log: Logger;
  /** Server version reported by GET /v2. */
  version: string;
  /** Date.now() when the server started, for uptime. */
  startedAt: number;
  metrics?: EdgeMetrics;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const { metrics } = deps;
  if (metrics) app.use('*', metrics.middleware);

  // Cross-origin isolation is what lets the page run multi-threaded WebAssembly; every response carries it,
  // errors and API replies included, so nothing served from here can break isolation.
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    c.res.headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
    c.res.headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  });
  // The API may also be called from a page served elsewhere (e.g. the dev server); it carries no credentials.
  const api = cors({
    origin: '*',
    allowHeaders: ['Content-Type', 'Inference-Header-Content-Length', 'x-tandem-budget-ms'],
    exposeHeaders: ['Server-Timing', 'Inference-Header-Content-Length'],
    maxAge: 600,
  });
  app.use('/v1/*', api);
  app.use('/v2/*', api);
  app.use('/v2', api);
  app.use('/v1/*', async (c, next) => { await next(); c.res.headers.set('Timing-Allow-Origin', '*'); });
  // Every API reply says how long it queued and took, refusals and errors included (they never queue).
  const timing: MiddlewareHandler = async (c, next) => {
    const t0 = performance.now();
    await next();
    if (!c.res.headers.has('Server-Timing')) {
      c.res.headers.set('Server-Timing', `queue;dur=0.0, total;dur=${(performance.now() - t0).toFixed(1)}`);
    }
  };
  app.use('/v1/*', timing);
  app.use('/v2/*', timing);

  if (metrics) {
    app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, {
      'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store',
    }));
  }
  app.route('/v2', v2Routes(deps));
  app.route('/v1', v1OcrRoutes(deps));
  app.route('/v1', v1StatusRoutes(deps));
  app.route('/models', modelFileRoutes(deps));
  app.route('/', webAppRoutes(deps));

  app.notFound((c) => errorReply(c, new ServerError('NotFound', `no route ${c.req.method} ${c.req.path}`)));
  app.onError((err, c) => {
    if (isClientError(err)) deps.log.debug('request refused', { path: c.req.path, code: err.name, error: err.message });
    else deps.log.error('request failed', { path: c.req.path, code: err.name, error: err.message, stack: err.stack });
    return errorReply(c, err);
  });
  return app;
}
