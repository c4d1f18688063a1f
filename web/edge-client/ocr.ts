import type { OcrResponse, StatusResponse } from '../../core/protocol/v1';
import { BUDGET_HEADER, type ProbeReply } from '../../core/protocol/v1';
import {
  ESCALATE_HEADER,
  IMAGE_SIZE_HEADER,
  LATE_ANSWER_HEADER,
  LATE_ANSWER_WANTED,
  formatEscalate,
  formatImageSize,
  type EscalateRequest,
} from '../../core/protocol/headers';
import { codedError, messageOf } from '../coded-error';
import { SERVER_TIMING_HEADER, parseServerTiming } from '../../core/protocol/server-timing';

export interface EdgeOcrOptions {
  /** Edge base URL, may include a path prefix (e.g. behind a reverse proxy); defaults to the page's origin. */
  baseUrl?: string;
  /** Remaining latency budget sent to the server, which may refuse work it cannot finish in time. */
  budgetMs?: number;
  /**
   * The answer is still wanted after the budget (the caller aborts `signal` when it no longer is): the server refuses
   * the request on arrival if it cannot make the budget, but once it has taken it, finishes it late rather than
   * answering 503 at the deadline.
   */
  lateAnswer?: boolean;
  /** Client-side deadline for the whole round trip. */
  timeoutMs?: number;
  maxSide?: number;
  useCls?: boolean;
  /** The image's pixel size, when known: the server judges the request's cost on arrival by its shape. */
  imageSize?: { width: number; height: number };
  /** Detect again at a larger side when the first finds too few lines and there is time (ESCALATE_HEADER). */
  escalate?: EscalateRequest;
  signal?: AbortSignal;
}

export interface EdgeOcrResult {
  response: OcrResponse;
  /** Server-Timing stages in milliseconds (decode, det, postprocess, cls, rec, total, ...). */
  serverTiming: Record<string, number>;
  /** Wall time from request start to parsed body, as seen by the page. */
  roundTripMs: number;
  uploadBytes: number;
  /** Size of the reply body. */
  downloadBytes: number;
}

/** Errors from the edge carry the HTTP status when there was a reply (503 and 429 are refusals, not faults). */
export type EdgeError = Error & {
  status?: number;
  /** A refusal's own figures: the server's predicted time to finish (ms), the budget it had left, Retry-After in ms. */
  predictedMs?: number;
  budgetMs?: number;
  retryAfterMs?: number;
};

const DEFAULT_TIMEOUT_MS = 30_000;

/** POST /v1/ocr with the image bytes as the body. Errors carry EdgeUnreachable, EdgeTimeout, EdgeRejected (4xx) or EdgeFailed (5xx) in `name`. */
export async function edgeOcr(image: Blob, options: EdgeOcrOptions = {}): Promise<EdgeOcrResult> {
  const url = endpoint('v1/ocr', options.baseUrl);
  if (options.maxSide !== undefined) url.searchParams.set('maxSide', String(options.maxSide));
  if (options.useCls !== undefined) url.searchParams.set('cls', options.useCls ? '1' : '0');
  const headers: Record<string, string> = { 'content-type': image.type || 'application/octet-stream' };
  if (options.budgetMs !== undefined) headers[BUDGET_HEADER] = String(Math.max(0, Math.round(options.budgetMs)));
  if (options.budgetMs !== undefined && options.lateAnswer) headers[LATE_ANSWER_HEADER] = LATE_ANSWER_WANTED;
  if (options.imageSize) headers[IMAGE_SIZE_HEADER] = formatImageSize(options.imageSize.width, options.imageSize.height);
  if (options.escalate) headers[ESCALATE_HEADER] = formatEscalate(options.escalate);

  const started = performance.now();
  const response = await send(url, { method: 'POST', body: image, headers }, options);
  if (!response.ok) throw await replyError(response);
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    // The deadline can pass while the reply is still arriving.
    if (options.signal?.aborted) throw error;
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError')
      throw codedError('EdgeTimeout', `The edge server's reply to ${url.pathname} did not arrive within ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms.`, error);
    throw codedError('EdgeUnreachable', `The edge server's reply to ${url.pathname} broke off (${messageOf(error)}).`, error);
  }
  let body: OcrResponse;
  try {
    body = JSON.parse(text) as OcrResponse;
  } catch (error) {
    throw codedError('EdgeFailed', `The edge server's reply to ${url.pathname} is not JSON (${messageOf(error)}).`, error);
  }
  return {
    response: body,
    downloadBytes: new TextEncoder().encode(text).byteLength,
    serverTiming: parseServerTiming(response.headers.get(SERVER_TIMING_HEADER)),
    roundTripMs: roundTripSince(url, started),
    uploadBytes: image.size,
  };
}

/** GET /v1/status with a short deadline: the cheapest way to learn whether the edge answers at all. */
export async function edgeStatus(options: Pick<EdgeOcrOptions, 'baseUrl' | 'timeoutMs' | 'signal'> = {}): Promise<StatusResponse> {
  const url = endpoint('v1/status', options.baseUrl);
  const response = await send(url, { cache: 'no-store' }, { timeoutMs: 2_000, ...options });
  if (!response.ok) throw await replyError(response);
  return (await response.json()) as StatusResponse;
}

export interface TimedReply<T> {
  body: T;
  /** From sending the request to the parsed body, as seen by the page. */
  roundTripMs: number;
  serverTiming: Record<string, number>;
}

/** GET /v1/status with its round trip and Server-Timing: the page's RTT samples. */
export async function edgeStatusTimed(options: Pick<EdgeOcrOptions, 'baseUrl' | 'timeoutMs' | 'signal'> = {}): Promise<TimedReply<StatusResponse>> {
  const url = endpoint('v1/status', options.baseUrl);
  const started = performance.now();
  const response = await send(url, { cache: 'no-store' }, { timeoutMs: 2_000, ...options });
  if (!response.ok) throw await replyError(response);
  const body = (await response.json()) as StatusResponse;
  return { body, roundTripMs: roundTripSince(url, started), serverTiming: parseServerTiming(response.headers.get(SERVER_TIMING_HEADER)) };
}

/** POST /v1/probe with `bytes` of filler: one uplink throughput sample. */
export async function edgeProbe(bytes: number, options: Pick<EdgeOcrOptions, 'baseUrl' | 'timeoutMs' | 'signal'> = {}): Promise<TimedReply<ProbeReply>> {
  const url = endpoint('v1/probe', options.baseUrl);
  // Random bytes, so no layer on the way can compress the probe into something smaller than it claims to be.
  const body = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 65_536) crypto.getRandomValues(body.subarray(i, Math.min(bytes, i + 65_536)));
  const started = performance.now();
  const response = await send(
    url,
    { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' }, cache: 'no-store' },
    { timeoutMs: 15_000, ...options },
  );
  if (!response.ok) throw await replyError(response);
  const reply = (await response.json()) as ProbeReply;
  return { body: reply, roundTripMs: roundTripSince(url, started), serverTiming: parseServerTiming(response.headers.get(SERVER_TIMING_HEADER)) };
}

/** GET /v1/probe?bytes=N: one downlink throughput sample. */
export async function edgeDownloadProbe(
  bytes: number,
  options: Pick<EdgeOcrOptions, 'baseUrl' | 'timeoutMs' | 'signal'> = {},
): Promise<TimedReply<{ bytes: number }>> {
  const url = endpoint('v1/probe', options.baseUrl);
  url.searchParams.set('bytes', String(bytes));
  const started = performance.now();
  const response = await send(url, { cache: 'no-store' }, { timeoutMs: 15_000, ...options });
  if (!response.ok) throw await replyError(response);
  const body = await response.arrayBuffer();
  return {
    body: { bytes: body.byteLength },
    roundTripMs: roundTripSince(url, started),
    serverTiming: parseServerTiming(response.headers.get(SERVER_TIMING_HEADER)),
  };
}

/**
 * A request's round trip as the network saw it: the browser's Resource Timing entry for it, from the fetch's start
 * to the reply's last byte. The page's own clock read after the promise settles also counts the time the main
 * thread took to get to it, hundreds of milliseconds on a busy phone, which made a 20 Mbit/s uplink's probes and
 * uploads look like 3 Mbit/s. The page's clock when no entry is there (timing not allowed, buffer full).
 */
function roundTripSince(url: URL, started: number): number {
  const fallback = performance.now() - started;
  const entries = performance.getEntriesByName(url.href, 'resource');
  let ms = fallback;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i] as PerformanceResourceTiming;
    if (e.startTime >= started - 1 && e.responseEnd > e.startTime) {
      ms = Math.min(fallback, e.responseEnd - e.startTime);
      break;
    }
  }
  // Status polls add an entry every few seconds: start over well before the buffer (250 entries) fills and new
  // entries are dropped. Not on its "full" event: Node's handling of a buffer cleared there can spin forever.
  if (performance.getEntriesByType('resource').length > RESOURCE_ENTRIES_KEPT) performance.clearResourceTimings();
  return ms;
}

const RESOURCE_ENTRIES_KEPT = 150;

function endpoint(path: string, baseUrl = globalThis.location.origin): URL {
  return new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
}

async function send(url: URL, init: RequestInit, options: Pick<EdgeOcrOptions, 'timeoutMs' | 'signal'>): Promise<Response> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    return await fetch(url, { ...init, signal });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (timeout.aborted) {
      throw codedError('EdgeTimeout', `The edge server did not answer ${url.pathname} within ${timeoutMs} ms.`, error);
    }
    throw codedError('EdgeUnreachable', `Cannot reach the edge server at ${url.origin} (${messageOf(error)}).`, error);
  }
}

/** The error for a reply that is not 2xx, with a refusal's own figures (`what`: the request, for the message). */
export async function replyError(response: Response, what = ''): Promise<EdgeError> {
  let detail = response.statusText;
  let body: { error?: unknown; predicted_ms?: unknown; budget_ms?: unknown } | undefined;
  try {
    body = (await response.json()) as typeof body;
    if (typeof body?.error === 'string') detail = body.error;
  } catch {
    // Not JSON (e.g. a proxy's HTML page); the status line is all there is.
  }
  // 4xx: this request is at fault (retrying elsewhere won't help); 5xx: the server is (another placement may).
  const code = response.status < 500 ? 'EdgeRejected' : 'EdgeFailed';
  const error: EdgeError = codedError(code, `The edge server answered ${response.status}${what ? ` to ${what}` : ''}: ${detail}`);
  error.status = response.status;
  if (typeof body?.predicted_ms === 'number' && Number.isFinite(body.predicted_ms)) error.predictedMs = body.predicted_ms;
  if (typeof body?.budget_ms === 'number' && Number.isFinite(body.budget_ms)) error.budgetMs = body.budget_ms;
  const retryAfterS = Number(response.headers.get('retry-after') ?? NaN);
  if (Number.isFinite(retryAfterS) && retryAfterS >= 0) error.retryAfterMs = retryAfterS * 1000;
  return error;
}
