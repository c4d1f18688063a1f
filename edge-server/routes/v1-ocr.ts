/** POST /v1/ocr: image bytes in, recognised lines out, with per-stage Server-Timing. */
import { Hono, type MiddlewareHandler } from 'hono';
import { formatOcrConfig } from '../../core/protocol/accept';
import { CONFIG_HEADER, ESCALATE_HEADER, parseEscalate } from '../../core/protocol/headers';
import { SERVER_TIMING_HEADER, formatServerTiming } from '../../core/protocol/server-timing';
import type { OcrResponse } from '../../core/protocol/v1';
import { planOcr } from '../ocr/plan';
import type { OcrEnv } from '../ocr/admission-middleware';
import { DeadlineError, ServerError, throwIfClientGone } from '../http/errors';
import { limitBody, mediaType, unlessClientGone } from '../http/requests';
import { decodeImage, imagePixels } from '../ocr/image-decode';
import type { WeightedGate } from '../limits/weighted-gate';
import type { AppDeps } from '../app';

const ACCEPTED_TYPES = new Set(['', 'image/jpeg', 'image/jpg', 'image/png', 'image/webp', 'application/octet-stream']);
const MIN_SIDE = 32;
const MAX_SIDE = 4096;

/**
 * `pixels` bounds the decoded images all requests hold at once. The request's signal fires when its client goes
 * away; the work stops at the next step (decode, each pipeline stage) and queued model runs are withdrawn.
 * `admission` (ocr/admission-middleware.ts) admits the request on arrival and hands over its budget and accept list.
 */
export function v1OcrRoutes(deps: AppDeps, pixels: WeightedGate, admission: MiddlewareHandler<OcrEnv>) {
  return new Hono<OcrEnv>().post('/ocr', admission, limitBody(deps.config.maxBodyBytes), async (c) => {
    const { t0, budgetMs: budget, lateWanted, accept, acceptError, refine } = c.var.admission;
    const type = mediaType(c);
    if (!ACCEPTED_TYPES.has(type)) {
      throw new ServerError('UnsupportedMediaType', `Content-Type ${type} is not accepted; send the image bytes as image/jpeg, image/png or image/webp`);
    }
    const options = parseOptions(c.req.query('maxSide'), c.req.query('cls'));
    const escalate = parseEscalate(c.req.header(ESCALATE_HEADER));
    if (escalate === undefined || (escalate && escalate.side > MAX_SIDE)) {
      throw new ServerError(
        'BadRequest',
        `${ESCALATE_HEADER}: ${JSON.stringify(c.req.header(ESCALATE_HEADER))} must be "side=N; below=N; ms=N" with a side up to ${MAX_SIDE}`,
      );
    }
    if (acceptError) throw acceptError;
    const deadline = budget === null ? undefined : t0 + budget;
    const signal = c.req.raw.signal;
    // Requests with a budget were admitted on arrival, before their body was read (ocr/admission-middleware.ts).
    const body = new Uint8Array(await unlessClientGone(c.req.arrayBuffer(), signal, 'while its image was uploading'));
    const t1 = performance.now();
    c.set('bodyReadMs', t1 - t0);
    // The pixels are reserved from the header before decoding, and held until the reply: the decoded image lives
    // (in this thread, then in the pipeline thread) until the request is answered.
    const release = await pixels.acquire(await imagePixels(body, deps.config.maxImagePixels), deps.config.pixelWaitMs, signal);
    let decodeMs;
    let run;
    let plan;
    try {
      const { rgba } = await decodeImage(body, deps.config.maxImagePixels);
      decodeMs = performance.now() - t1;
      throwIfClientGone(signal, 'while its image was decoded');
      if (deadline !== undefined && !lateWanted && performance.now() >= deadline) {
        throw new DeadlineError(performance.now() - t0, budget!, 1, ' (the budget ran out while the image was read and decoded)');
      }
      // Admission for this image size, choosing the detector side among the accepted ones (ocr/plan.ts).
      // A request admitted on arrival is tested again only if its image size costs clearly more than assumed; the
      // planner still sees the deadline when it has detector sides to choose from.
      const admitted = refine(rgba.width, rgba.height);
      plan = planOcr(deps, rgba.width, rgba.height, options, accept, admitted && !accept?.maxSide ? undefined : deadline);
      // The second detection must leave time for what the caller predicts it and the recognition after it cost.
      const runOptions = escalate
        ? {
            ...plan.options,
            escalate: {
              maxSide: escalate.side,
              belowLines: escalate.below,
              notAfterMs: deadline === undefined ? Infinity : deadline - escalate.ms - performance.now(),
            },
          }
        : plan.options;
      run = await deps.ocr.run(rgba, runOptions, deadline, plan.models, signal, lateWanted);
    } finally {
      release();
    }
    throwIfClientGone(signal, 'before its reply');
    const { result, queueMs, batch, models } = run;
    const maxSide = result.escalated && escalate ? escalate.side : plan.maxSide;
    const config = { det: models.det, maxSide, rec: models.rec };
    const total = performance.now() - t0;
    const reply: OcrResponse = {
      ...result,
      server: { decode: round(decodeMs), queue: round(queueMs), total: round(total) },
      models,
      config,
    };
    const t = result.timings;
    c.header(
      SERVER_TIMING_HEADER,
      formatServerTiming(
        [
          ['decode', decodeMs],
          ['preprocess', t.preprocess],
          ['det', t.det],
          ['postprocess', t.postprocess],
          ['cls', t.cls],
          ['rec', t.rec],
          ['queue', queueMs],
          ['read', t1 - t0],
          ['total', total],
        ],
        [['batch', batch]],
      ),
    );
    c.header(CONFIG_HEADER, formatOcrConfig(config));
    c.set('ran', { maxSide, queueMs, escalated: result.escalated !== undefined });
    return c.json(reply);
  });
}

function parseOptions(maxSide: string | undefined, cls: string | undefined): { maxSide?: number; useCls?: boolean } {
  const options: { maxSide?: number; useCls?: boolean } = {};
  if (maxSide !== undefined) {
    const n = Number(maxSide);
    if (!/^\d+$/.test(maxSide) || n < MIN_SIDE || n > MAX_SIDE) {
      throw new ServerError('InvalidQuery', `maxSide=${JSON.stringify(maxSide)} must be an integer from ${MIN_SIDE} to ${MAX_SIDE}`);
    }
    options.maxSide = n;
  }
  if (cls !== undefined) {
    if (!['0', '1', 'true', 'false'].includes(cls)) throw new ServerError('InvalidQuery', `cls=${JSON.stringify(cls)} must be 1 or 0`);
    options.useCls = cls === '1' || cls === 'true';
  }
  return options;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
