/**
 * Link probes for pages measuring their connection before the first real request.
 * - POST /v1/probe reads and discards the body, then answers how many bytes came and how long reading them took;
 *   Server-Timing splits the server's time into `read` (the body arriving, i.e. the upload itself) and `proc`
 *   (everything after it), so the client can subtract only the server's own work from its round trip.
 * - GET /v1/probe?bytes=N answers N bytes that do not compress, for the downlink; `proc` is the time to make them.
 */
import { randomFillSync } from 'node:crypto';
import { Hono } from 'hono';
import { SERVER_TIMING_HEADER, formatServerTiming } from '../../core/protocol/server-timing';
import type { ProbeReply } from '../../core/protocol/v1';
import { ServerError } from '../http/errors';
import { limitBody } from '../http/requests';
import type { AppDeps } from '../app';

/** A probe only needs tens of kilobytes; refusing more keeps it from being used to push large bodies. */
export const PROBE_MAX_BYTES = 1024 * 1024;

export function v1ProbeRoutes(deps: Pick<AppDeps, 'config'>) {
  return new Hono()
    .post('/probe', limitBody(Math.min(PROBE_MAX_BYTES, deps.config.maxBodyBytes)), async (c) => {
      const t0 = performance.now();
      let bytes = 0;
      const reader = c.req.raw.body?.getReader();
      if (reader) {
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) bytes += chunk.value.byteLength;
      }
      const t1 = performance.now();
      const reply: ProbeReply = { bytes, readMs: Math.round((t1 - t0) * 10) / 10 };
      const t2 = performance.now();
      c.header(
        SERVER_TIMING_HEADER,
        formatServerTiming([
          ['read', t1 - t0],
          ['proc', t2 - t1],
          ['total', t2 - t0],
        ]),
      );
      c.header('Cache-Control', 'no-store');
      return c.json(reply);
    })
    .get('/probe', (c) => {
      const t0 = performance.now();
      const raw = c.req.query('bytes') ?? '0';
      const bytes = Number(raw);
      if (!/^\d+$/.test(raw) || bytes > PROBE_MAX_BYTES) {
        throw new ServerError('InvalidQuery', `bytes=${JSON.stringify(raw)} must be an integer from 0 to ${PROBE_MAX_BYTES}`);
      }
      const body = new Uint8Array(bytes);
      for (let i = 0; i < bytes; i += 65_536) randomFillSync(body, i, Math.min(65_536, bytes - i));
      const ms = performance.now() - t0;
      c.header(
        SERVER_TIMING_HEADER,
        formatServerTiming([
          ['proc', ms],
          ['total', ms],
        ]),
      );
      c.header('Cache-Control', 'no-store');
      return c.body(body, 200, { 'Content-Type': 'application/octet-stream' });
    });
}
