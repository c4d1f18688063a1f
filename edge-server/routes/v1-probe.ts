/**
 * POST /v1/probe: reads and discards the body, then answers how many bytes came and how long reading them took.
 * Pages send a small upload here to measure their uplink before the first real request; Server-Timing splits
 * the server's time into `read` (the body arriving, i.e. the upload itself) and `proc` (everything after it),
 * so the client can subtract only the server's own work from its round trip.
 */
import { Hono } from 'hono';
import { limitBody } from '../http';
import type { AppDeps } from '../app';

/** A probe only needs tens of kilobytes; refusing more keeps it from being used to push large bodies. */
export const PROBE_MAX_BYTES = 1024 * 1024;

export interface ProbeReply {
  bytes: number;
  readMs: number;
}

export function v1ProbeRoutes(deps: Pick<AppDeps, 'config'>): Hono {
  const app = new Hono();
  app.post('/probe', limitBody(Math.min(PROBE_MAX_BYTES, deps.config.maxBodyBytes)), async (c) => {
    const t0 = performance.now();
    let bytes = 0;
    const reader = c.req.raw.body?.getReader();
    if (reader) {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) bytes += chunk.value.byteLength;
    }
    const t1 = performance.now();
    const reply: ProbeReply = { bytes, readMs: Math.round((t1 - t0) * 10) / 10 };
    const t2 = performance.now();
    c.header('Server-Timing', `read;dur=${(t1 - t0).toFixed(1)}, proc;dur=${(t2 - t1).toFixed(1)}, total;dur=${(t2 - t0).toFixed(1)}`);
    c.header('Cache-Control', 'no-store');
    return c.json(reply);
  });
  return app;
}
