/** What the abuse bench reads from a server process: RSS over time, /v1/status, /metrics outcomes, its log. */
import { request } from 'node:http';
import type { StatusResponse } from '../../core/protocol/v1';
import { parsePrometheusText } from '../../edge-server/test/prometheus-text';
import { startEdgeProcess, stopEdgeProcess, sleep, type EdgeProcess } from '../../test-support/edge-process';
import { rssBytes } from '../../test-support/process-rss';

export interface WatchedServer extends EdgeProcess {
  log: string[];
  rss(): number;
  /** Highest RSS seen since the last `resetPeak()` (sampled every 50 ms). */
  peak(): number;
  resetPeak(): void;
  stop(): Promise<void>;
}

/** A fresh server at its default settings (info log captured) plus `env`. */
export async function watchedServer(env: Record<string, string> = {}): Promise<WatchedServer> {
  const log: string[] = [];
  const edge = await startEdgeProcess({ LOG_LEVEL: 'info', ...env }, { onStderr: (l) => log.push(l) });
  const pid = edge.child.pid!;
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 50);
  return {
    ...edge,
    log,
    rss: () => rssBytes(pid),
    peak: () => Math.max(peak, rssBytes(pid)),
    resetPeak: () => {
      peak = rssBytes(pid);
    },
    async stop() {
      clearInterval(timer);
      await stopEdgeProcess(edge);
    },
  };
}

export const gb = (bytes: number) => Math.round((bytes / 1e9) * 100) / 100;

export async function status(base: string): Promise<StatusResponse> {
  return (await (await fetch(`${base}/v1/status`)).json()) as StatusResponse;
}

export const totalRuns = (s: StatusResponse) => s.models.reduce((n, m) => n + (m.runs ?? 0), 0);

/** `tandem_http_requests_total` by outcome for one route. */
export async function outcomes(base: string, route: string): Promise<Record<string, number>> {
  const families = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
  const counts: Record<string, number> = {};
  for (const s of families.get('tandem_http_requests_total')?.samples ?? []) {
    if (s.labels.route === route) counts[s.labels.outcome] = (counts[s.labels.outcome] ?? 0) + s.value;
  }
  return counts;
}

export const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Polls `ok` every 50 ms; false (not a throw) when `limitMs` passes, so the bench reports instead of dying. */
export async function waitFor(ok: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  for (const end = Date.now() + limitMs; Date.now() < end; await sleep(50)) if (await ok()) return true;
  return false;
}

export async function idle(base: string, limitMs = 120_000): Promise<boolean> {
  return waitFor(async () => {
    const s = await status(base);
    return s.pool.busy === 0 && s.pool.queued === 0 && (s.ocr?.inProgress ?? 0) === 0;
  }, limitMs);
}

export interface Reply {
  status: number;
  ms: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request over node:http (any Host header, exact bytes), with a bound on how long it may take. */
export function send(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string; timeoutMs?: number } = {},
): Promise<Reply> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const body = typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
    const req = request(url, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers: { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(new Error('timed out')), init.timeoutMs ?? 120_000);
    req.on('error', (e) => {
      clearTimeout(timer);
      resolve({ status: 0, ms: performance.now() - t0, headers: {}, body: e.message });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(body);
  });
}

export function codeOf(r: Reply): string {
  try {
    return (JSON.parse(r.body) as { code?: string }).code ?? String(r.status);
  } catch {
    return String(r.status);
  }
}

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}
