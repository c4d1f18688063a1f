/**
 * One replay session: a fresh page of the installed PWA (models already in IndexedDB, the service worker in
 * control) on one link under one policy, reading a stream of photos, each with its budget, through the page's own
 * file input, budget field and Run button. The page keeps a record of every finished request (`globalThis.tandemRuns`); the session adds
 * what only the outside sees: when the user asked, the trace's clock, and the bytes the shaper moved.
 */
import type { Page, BrowserContext } from '@playwright/test';
import type { RunRecord } from '../../web/app/run-record';
import type { LinkShaper } from '../../test-support/link-shaper';
import { shapeOf } from '../../test-support/link-shaper';
import type { LinkTrace } from '../sim/traces';
import { wordRecall } from '../eval-ocr/metrics';
import type { ReplayRequest } from './workload';

export type ReplayPolicy = 'tandem' | 'device' | 'edge' | 'layercake' | 'pieslicer';
export const REPLAY_POLICIES: readonly ReplayPolicy[] = ['tandem', 'device', 'edge', 'layercake', 'pieslicer'];

/** The page's mode and `?policy=` for each policy: fixed modes are the page's own Device and Edge choices. */
export function pageSettings(policy: ReplayPolicy): { mode: 'auto' | 'device' | 'edge'; policy?: string } {
  if (policy === 'device' || policy === 'edge') return { mode: policy };
  return { mode: 'auto', policy };
}

export interface ReplayRecord {
  link: string;
  linkType: string;
  uplink: 'measured' | 'derived';
  policy: ReplayPolicy;
  budgetMs: number;
  k: number;
  image: string;
  dataset: string;
  /** Session clock (ms after the page was ready): when the user asked, and when Run was pressed. */
  arrivalMs: number;
  startMs: number;
  /** Time the photo waited for the previous request (the page reads one photo at a time). */
  queueMs: number;
  /** The trace's clock at the press of Run. */
  traceMs: number;
  planId: string;
  plan: string;
  reason: string;
  why: string;
  ranOn: string;
  fellBack: string | null;
  retried: string | null;
  raceWon: string | null;
  /** The phone's raced answer held no line, so the edge's answer was awaited. */
  awaitedBetter: boolean;
  /** A second look at a larger side after a first read far short of the lines expected (RunRecord.secondLook). */
  secondLook?: { planId: string; used: boolean; firstLines: number; lines: number | null; firstMs: number; note: string | null } | null;
  /** What the edge was asked to detect again at when short, and whether it did (RunRecord.predicted.escalation, .escalated). */
  escalation?: { side: number; belowLines: number; costMs: number } | null;
  escalated?: { fromSide: number; toSide: number; firstLines: number } | null;
  predictedP50Ms: number;
  predictedP95Ms: number;
  predictedStages: { stage: string; expectedMs: number; p95Ms: number }[];
  /** Lines and word recall the planner expected of this photo with its plan, and the plan it expected to read the most. */
  predictedLines: number | null;
  /** Their recogniser input width per line, in the profiles' lines (RunRecord.predicted.recWidthFactor). */
  predictedRecWidthFactor?: number | null;
  predictedRecall: number | null;
  mostAccurate: { planId: string; expectedMs: number; p95Ms: number; accuracy: number } | null;
  measuredStages: Record<string, number>;
  /** From the request to the lines shown, as the page measured it. */
  totalMs: number;
  /** From the press of Run to the record, as the harness saw it. */
  harnessMs: number;
  met: boolean;
  /** Word recall against the image's labels (0 for a failure), with the counts behind it. */
  wordRecall: number;
  wordsFound: number;
  wordsTotal: number;
  lines: number;
  edgeMs: number;
  upBytes: number;
  downBytes: number;
  failure: { code: string; message: string } | null;
  /** The simulator on the same request (filled later). */
  sim?: { totalMs: number; met: boolean; planId: string; predictedP50Ms: number };
}

export interface SessionSpec {
  context: BrowserContext;
  origin: string;
  shaper: LinkShaper;
  link: LinkTrace;
  policy: ReplayPolicy;
  requests: readonly ReplayRequest[];
  /** Longest wait for one answer before the request counts as failed and the page is reloaded. */
  requestTimeoutMs: number;
  log: (line: string) => void;
}

declare global {
  // The page's records (web/app/run-record.ts).
  var tandemRuns: RunRecord[] | undefined;
}

/** Opens the page for a session and waits until it is ready to read: runtime warm, link probed. */
async function openPage(spec: SessionSpec): Promise<Page> {
  const { mode, policy } = pageSettings(spec.policy);
  const params = new URLSearchParams({ learned: '0', ...(policy ? { policy } : {}) });
  const page = await spec.context.newPage();
  await page.goto(`${spec.origin}/?${params}`);
  await page.locator('#mode').selectOption(mode);
  // The runtime is shown once it has loaded from IndexedDB and run its warm-up.
  await page.waitForFunction(() => (document.querySelector('#backend') as HTMLElement | null)?.dataset.backend, undefined, { timeout: 180_000 });
  // The uplink probe on joining the link (it may fail on a link that stalls; the planner then goes without it).
  await page
    .waitForFunction(() => ['done', 'failed', 'skipped'].includes((document.querySelector('#link') as HTMLElement | null)?.dataset.probe ?? ''), undefined, {
      timeout: 60_000,
    })
    .catch(() => undefined);
  return page;
}

/** Runs the session's requests in order, each at its arrival time or as soon as the page is free. */
export async function runSession(spec: SessionSpec): Promise<ReplayRecord[]> {
  // The page joins the link at the trace's start: its first status poll and probe see what the first photo will.
  spec.shaper.shape(shapeOf(spec.link, 0));
  const opening = Date.now();
  let page = await openPage(spec);
  // The trace starts again as the first photo can be asked for: opening a page (and its warm-up) takes 30–90 s by
  // policy, and every policy must meet the same stretch of the trace at the same instants of its session.
  spec.shaper.shape(shapeOf(spec.link, 0));
  const readyAt = Date.now();
  spec.log(`  page ready in ${readyAt - opening} ms (${await page.locator('#backend').getAttribute('title')})`);
  const out: ReplayRecord[] = [];
  for (const req of spec.requests) {
    const due = readyAt + req.arrivalMs;
    if (Date.now() < due) await page.waitForTimeout(due - Date.now());
    await page.locator('#budget').fill(String(req.budgetMs));
    await page.locator('#budget').dispatchEvent('change');
    await page.locator('#file').setInputFiles(req.image.path);
    await page.waitForFunction(
      () => {
        const run = document.querySelector('#run') as HTMLButtonElement | null;
        return run !== null && !run.disabled && document.body.dataset.state !== 'running';
      },
      undefined,
      { timeout: 60_000 },
    );
    const seen = await page.evaluate(() => globalThis.tandemRuns?.length ?? 0);
    const before = spec.shaper.counters();
    const traceMs = spec.shaper.nowTraceMs();
    const startMs = Date.now() - readyAt;
    const clicked = Date.now();
    await page.locator('#run').click();
    let record: RunRecord | null = null;
    try {
      await page.waitForFunction((n) => (globalThis.tandemRuns?.length ?? 0) > n, seen, { timeout: spec.requestTimeoutMs });
      record = await page.evaluate((n) => globalThis.tandemRuns![n], seen);
    } catch {
      record = null;
    }
    const harnessMs = Date.now() - clicked;
    const after = spec.shaper.counters();
    const r = toReplayRecord(spec, req, record, {
      startMs,
      traceMs,
      harnessMs,
      upBytes: after.upBytes - before.upBytes,
      downBytes: after.downBytes - before.downBytes,
    });
    out.push(r);
    spec.log(
      `  ${spec.link.name.slice(0, 40)} ${spec.policy}@${req.budgetMs} #${req.k} ${req.image.file.split('/').pop()}: ${r.failure ? `FAILED ${r.failure.code}` : `${Math.round(r.totalMs)} ms ${r.met ? 'in budget' : 'late'}`} on ${r.ranOn} (${r.planId}; predicted ${Math.round(r.predictedP50Ms)}/${Math.round(r.predictedP95Ms)}) recall ${r.wordRecall.toFixed(2)}`,
    );
    if (record === null) {
      // A page that did not answer is replaced, so one hang does not take the rest of the session with it.
      await page.close().catch(() => undefined);
      page = await openPage(spec);
    }
  }
  await page.close();
  return out;
}

function toReplayRecord(
  spec: SessionSpec,
  req: ReplayRequest,
  rec: RunRecord | null,
  seen: { startMs: number; traceMs: number; harnessMs: number; upBytes: number; downBytes: number },
): ReplayRecord {
  const failure = rec === null ? { code: 'NoAnswer', message: `no answer within ${spec.requestTimeoutMs} ms` } : (rec.error ?? null);
  const budgetMs = req.budgetMs;
  const recall =
    failure === null && rec
      ? wordRecall(
          req.image.labels,
          rec.lines.map((l) => l.text),
        )
      : { found: 0, total: wordRecall(req.image.labels, []).total };
  const totalMs = rec?.wallMs ?? seen.harnessMs;
  return {
    link: spec.link.name,
    linkType: spec.link.linkType,
    uplink: spec.link.upFrom === 'up' ? 'measured' : 'derived',
    policy: spec.policy,
    budgetMs,
    k: req.k,
    image: req.image.file,
    dataset: req.image.dataset,
    arrivalMs: req.arrivalMs,
    startMs: seen.startMs,
    queueMs: Math.max(0, seen.startMs - req.arrivalMs),
    traceMs: seen.traceMs,
    planId: rec?.planId ?? '',
    plan: rec?.planLabel ?? '',
    reason: rec?.reason ?? '',
    why: rec?.why ?? '',
    ranOn: rec?.ranOn ?? 'none',
    fellBack: rec?.fellBack ?? null,
    retried: rec?.retried ?? null,
    raceWon: rec?.raceWon ?? null,
    awaitedBetter: rec?.awaitedBetter ?? false,
    secondLook: rec?.secondLook
      ? {
          planId: rec.secondLook.planId,
          used: rec.secondLook.used,
          firstLines: rec.secondLook.firstLines,
          lines: rec.secondLook.lines,
          firstMs: rec.secondLook.firstMs,
          note: rec.secondLook.note ?? null,
        }
      : null,
    escalation: rec?.predicted?.escalation ?? null,
    escalated: rec?.escalated ?? null,
    predictedP50Ms: rec?.predicted?.expectedMs ?? NaN,
    predictedP95Ms: rec?.predicted?.p95Ms ?? NaN,
    predictedStages: (rec?.predicted?.stages ?? []).map((s) => ({
      stage: `${s.where}:${s.stage}${s.branch === 'main' ? '' : `:${s.branch}`}`,
      expectedMs: s.expectedMs,
      p95Ms: s.p95Ms,
    })),
    predictedLines: rec?.predicted?.lines ?? null,
    predictedRecWidthFactor: rec?.predicted?.recWidthFactor ?? null,
    predictedRecall: rec?.predicted?.accuracy ?? null,
    mostAccurate: rec?.predicted?.mostAccurate ?? null,
    measuredStages: rec?.measuredStages ?? {},
    totalMs,
    harnessMs: seen.harnessMs,
    met: failure === null && totalMs <= budgetMs,
    wordRecall: recall.total > 0 ? recall.found / recall.total : failure === null ? 1 : 0,
    wordsFound: recall.found,
    wordsTotal: recall.total,
    lines: rec?.lines.length ?? 0,
    edgeMs: rec?.edgeServerMs ?? 0,
    upBytes: seen.upBytes,
    downBytes: seen.downBytes,
    failure,
  };
}
