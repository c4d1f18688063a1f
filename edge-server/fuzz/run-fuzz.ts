/**
 * Sends generated requests to a running edge server process and checks what must hold for every one of them: no 5xx
 * other than the documented refusals, a JSON error body on every error, no hang, no leak of a file outside the web
 * app or of the server's insides, the server still ready after each batch and its RSS under a ceiling.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { REPO_ROOT } from '../../test-support/shared-set';
import { fuzzCases, type CaseContext, type FuzzCase } from './cases';
import { buildImageCorpus } from './images';
import { rssBytes } from '../../test-support/process-rss';

/**
 * 503s the README documents as the server working as designed (refusals, limits, a web app not built, a model
 * configured but not loaded). `WorkerCrashed` and `PoolUnavailable` are documented too, but mean a worker died on
 * an input: for a fuzzer that is a finding.
 */
export const DOCUMENTED_503 = new Set(['DeadlineUnmeetable', 'Overloaded', 'WebAppMissing', 'ModelUnavailable', 'NotReady']);

export const DEFAULT_RSS_CEILING = 2e9;
export const HANG_MS = 10_000;

export interface FuzzFailure {
  index: number;
  kind: string;
  what: string;
  request: string;
  status?: number;
  body?: string;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  /** Requests node:http refused to send (not the server's business). */
  unsendable: number;
  byStatus: Record<string, number>;
  byKind: Record<string, Record<string, number>>;
  failures: FuzzFailure[];
  peakRssBytes: number;
  batches: number;
  seconds: number;
}

export interface FuzzOptions {
  base: string;
  /** The server process, whose RSS is read from /proc. */
  pid: number;
  cases: number;
  seed: number;
  batchSize?: number;
  concurrency?: number;
  rssCeilingBytes?: number;
  /** Include 6000×6600 zero PNGs among the images (slow to build and to decode; off for the quick suite). */
  withBomb?: boolean;
  /** Content of a file beside (outside) the web app folder, which no response may ever carry. */
  secret?: string;
  /** The shared memory object the cases may register. */
  shm: { key: string; bytes: number };
  onBatch?: (done: number, report: FuzzReport) => void;
}

export interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string | string[] | undefined>;
}

/** Origins no default configuration allows: a reply to them must never carry CORS permission. */
const FOREIGN_ORIGINS = /evil\.example|ocr\.example\.com|^null$|^file:|^\*$/;

const KEEP = 64 * 1024;

/** One request with node:http, so the path and headers go out exactly as generated; null when it hangs. */
function send(base: string, c: FuzzCase): Promise<Reply | null | 'unsendable'> {
  return new Promise((resolve) => {
    let req;
    try {
      req = request(base + c.path, {
        method: c.method,
        headers: { ...c.headers, ...(c.body ? { 'content-length': String(c.body.length) } : {}) },
        agent: false,
      });
    } catch {
      resolve('unsendable');
      return;
    }
    const timer = setTimeout(() => {
      req.destroy();
      resolve(null);
    }, HANG_MS);
    req.on('error', (e) => {
      clearTimeout(timer);
      resolve({ status: -1, type: '', body: String(e) });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (d: Buffer) => {
        if (kept < KEEP) {
          chunks.push(d);
          kept += d.length;
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        });
      });
      res.on('error', () => {
        clearTimeout(timer);
        resolve({ status: -1, type: '', body: 'response aborted' });
      });
    });
    req.end(c.body);
  });
}

function describeCase(c: FuzzCase): string {
  const head = Object.entries(c.headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  const body = c.body ? ` body ${c.body.length} B: ${JSON.stringify(Buffer.from(c.body.subarray(0, 160)).toString('latin1'))}` : '';
  return `${c.method} ${c.path.slice(0, 300)} [${head.slice(0, 300)}]${body}`;
}

/** What is wrong with this reply, or null. */
export function judgeReply(c: FuzzCase, r: Reply, secret?: string): string | null {
  if (r.status === -1) return `connection failed: ${r.body}`;
  if (secret && r.body.includes(secret)) return 'a file outside the web app was served';
  if (r.status === 499) return '499 sent to a client that was still there';
  if (c.kind === 'shm' && c.headers['x-forwarded-for'] !== undefined && r.status < 300) return 'shared memory used through a proxy header';
  let code: string | undefined;
  if (r.status >= 400 && c.method !== 'HEAD') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.body);
    } catch {
      return `${r.status} without a JSON body (${r.type})`;
    }
    const e = parsed as { error?: unknown; code?: unknown };
    if (!r.type.startsWith('application/json') || typeof e.error !== 'string' || typeof e.code !== 'string')
      return `${r.status} error body is not {error, code}`;
    code = e.code;
    // Messages may echo the client's own path back; anything else naming modules or the checkout is the server's.
    const modules = /\/node_modules\//.test(e.error) && !c.path.includes('node_modules');
    if (/\n\s+at /.test(e.error) || e.error.includes(REPO_ROOT) || modules) return "error text shows the server's insides";
  }
  if (r.status >= 500) {
    if (r.status !== 503) return `${r.status} ${code ?? ''}`.trim();
    if (c.method !== 'HEAD' && !DOCUMENTED_503.has(code ?? '')) return `503 with undocumented code ${code}`;
  }
  if (r.headers) {
    if (r.headers['x-content-type-options'] !== 'nosniff') return 'no X-Content-Type-Options: nosniff';
    const origin = c.headers.origin;
    if (origin !== undefined && FOREIGN_ORIGINS.test(origin) && r.headers['access-control-allow-origin'] !== undefined) return `CORS allowed for ${origin}`;
  }
  return null;
}

async function ready(base: string): Promise<number> {
  try {
    return (await fetch(`${base}/v2/health/ready`, { signal: AbortSignal.timeout(HANG_MS) })).status;
  } catch {
    return 0;
  }
}

/** Draws `cases` requests from `seed` and sends them in batches; never throws for what the server does. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const batchSize = options.batchSize ?? 100;
  const concurrency = options.concurrency ?? 4;
  const ceiling = options.rssCeilingBytes ?? DEFAULT_RSS_CEILING;
  const ctx: CaseContext = { images: await buildImageCorpus({ withBomb: options.withBomb }), shmKey: options.shm.key, shmBytes: options.shm.bytes };
  const arbitrary = fuzzCases(ctx);
  const report: FuzzReport = {
    seed: options.seed,
    cases: options.cases,
    unsendable: 0,
    byStatus: {},
    byKind: {},
    failures: [],
    peakRssBytes: 0,
    batches: 0,
    seconds: 0,
  };
  const tally = (kind: string, status: string) => {
    report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
    const k = (report.byKind[kind] ??= {});
    k[status] = (k[status] ?? 0) + 1;
  };
  const sampleRss = () => {
    report.peakRssBytes = Math.max(report.peakRssBytes, rssBytes(options.pid));
  };
  const sampler = setInterval(sampleRss, 100);
  try {
    for (let start = 0; start < options.cases; start += batchSize) {
      // Drawn batch by batch (seed + batch number), so a long run never holds every body at once.
      const batch = fc.sample(arbitrary, { numRuns: Math.min(batchSize, options.cases - start), seed: options.seed + start / batchSize });
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < batch.length) {
            const index = start + next;
            const c = batch[next++];
            const r = await send(options.base, c);
            if (r === 'unsendable') {
              report.unsendable++;
              tally(c.kind, 'unsendable');
              continue;
            }
            if (r === null) {
              tally(c.kind, 'hang');
              report.failures.push({ index, kind: c.kind, what: `no reply within ${HANG_MS} ms`, request: describeCase(c) });
              continue;
            }
            tally(c.kind, String(r.status));
            const what = judgeReply(c, r, options.secret);
            if (what) report.failures.push({ index, kind: c.kind, what, request: describeCase(c), status: r.status, body: r.body.slice(0, 300) });
          }
        }),
      );
      report.batches++;
      sampleRss();
      const health = await ready(options.base);
      if (health !== 200)
        report.failures.push({ index: start + batch.length - 1, kind: 'health', what: `/v2/health/ready answered ${health} after the batch`, request: '' });
      if (report.peakRssBytes > ceiling) {
        report.failures.push({
          index: start + batch.length - 1,
          kind: 'rss',
          what: `server RSS ${(report.peakRssBytes / 1e9).toFixed(2)} GB over the ceiling of ${(ceiling / 1e9).toFixed(2)} GB`,
          request: '',
        });
      }
      options.onBatch?.(start + batch.length, report);
      // A server that is gone answers nothing more worth counting.
      if (health === 0) break;
    }
  } finally {
    clearInterval(sampler);
  }
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

export interface FuzzTarget {
  /** Environment for the server: web app folder with a secret beside it, shared memory on loopback. */
  env: Record<string, string>;
  secret: string;
  shm: { key: string; bytes: number };
  dispose(): void;
}

/** A throwaway web app folder (with a secret file next to it) and a shared memory object for the cases. */
export function prepareFuzzTarget(): FuzzTarget {
  const id = randomBytes(6).toString('hex');
  const root = join(tmpdir(), `tandem-fuzz-${id}`);
  const web = join(root, 'web');
  mkdirSync(join(web, 'assets'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>Tandem fuzz app</title>');
  writeFileSync(join(web, 'assets', 'app-1a2b3c.js'), 'console.log("app");\n');
  const secret = `tandem-fuzz-secret-${id}`;
  writeFileSync(join(root, 'secret.txt'), secret);
  writeFileSync(join(root, '.env'), secret);
  // The shared memory folder is the server's setting; a folder of our own keeps the fuzzer's objects apart.
  const shmDir = join(root, 'shm');
  mkdirSync(shmDir);
  const shm = { key: 'tandem-fuzz', bytes: 1 << 20 };
  writeFileSync(join(shmDir, shm.key), new Uint8Array(shm.bytes));
  return {
    env: { STATIC_DIR: web, EDGE_SHARED_MEMORY: 'loopback', EDGE_SHARED_MEMORY_DIR: shmDir },
    secret,
    shm,
    dispose() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Counts by status as one line per status, for logs. */
export function formatCounts(report: FuzzReport): string {
  const statuses = Object.keys(report.byStatus).sort();
  const kinds = Object.keys(report.byKind).sort();
  const rows = [`status  total  ${kinds.map((k) => k.padStart(10)).join(' ')}`];
  for (const s of statuses) {
    rows.push(`${s.padEnd(6)} ${String(report.byStatus[s]).padStart(6)}  ${kinds.map((k) => String(report.byKind[k][s] ?? 0).padStart(10)).join(' ')}`);
  }
  return rows.join('\n');
}
