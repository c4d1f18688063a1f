/**
 * Faults under a real page: its own edge process (which a test may kill and start again on the same port) reached
 * only through the link shaper (which a test may stall), and helpers that run one request without assuming it
 * succeeds and that strike at the moment the photo is on its way to the edge.
 */
import { expect, type BrowserContext, type Page } from '@playwright/test';
import { join } from 'node:path';
import type { RunRecord } from '../../web/app/run-record';
import { constantShape, LinkShaper } from '../../test-support/link-shaper';
import type { Phone } from '../../test-support/phone';
import { freePort, sleep, startEdgeProcess, stopEdgeProcess, type EdgeProcess } from '../../test-support/edge-process';
import { REPO_ROOT } from '../../test-support/shared-set';
import { runRecords, type Mode } from './app';

export class FaultyEdge {
  private constructor(
    public edge: EdgeProcess,
    readonly shaper: LinkShaper,
    private readonly env: Record<string, string>,
  ) {}

  /** The built app served by an edge process, as the page sees it: through the shaper, at the shaper's origin. */
  static async start(): Promise<FaultyEdge> {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const env = { STATIC_DIR: join(REPO_ROOT, 'dist'), EDGE_CORS_ORIGINS: origin, EDGE_PUBLIC_ORIGINS: origin };
    const edge = await startEdgeProcess(env);
    const shaper = await LinkShaper.start({ target: { host: '127.0.0.1', port: edge.port }, port });
    return new FaultyEdge(edge, shaper, env);
  }

  get url(): string {
    return this.shaper.url;
  }

  /** SIGKILL: no graceful drain, connections in progress are cut, as when the machine or process dies. */
  kill(): void {
    this.edge.child.kill('SIGKILL');
  }

  /** A new process on the same port (the shaper keeps pointing at it). */
  async restart(): Promise<void> {
    if (this.edge.child.exitCode === null && this.edge.child.signalCode === null) await stopEdgeProcess(this.edge);
    this.edge = await startEdgeProcess(this.env, { port: this.edge.port });
  }

  async close(): Promise<void> {
    await this.shaper.close();
    await stopEdgeProcess(this.edge);
  }
}

export interface Attempt {
  record: RunRecord;
  /** data-state the page ended in: 'done' or 'error'. */
  state: string;
  /** Text shown to the user: where it ran (with the reason it fell back) or the error. */
  shown: string;
  /** Whether the fault given struck (false: the request ended without giving it its moment, e.g. auto mode kept it on the device). */
  struck: boolean | null;
}

/**
 * A fault struck during a request: given a promise of the request's end, it resolves true once it struck, false when
 * the request ended without giving it its moment.
 */
export type Fault = (requestEnded: Promise<void>) => Promise<boolean>;

/**
 * Picks the photo and mode, presses Run and waits for the page to finish, successfully or not. `during`, when given,
 * is started just before Run is pressed and awaited while the request is under way (e.g. a fault). Exactly one new record must appear for the request.
 */
export async function attempt(page: Page, photo: string, mode: Mode, during?: Fault): Promise<Attempt> {
  await page.locator('#file').setInputFiles(photo);
  await page.locator('#mode').selectOption(mode);
  await expect(page.locator('body')).toHaveAttribute('data-state', 'idle');
  await expect(page.locator('#run')).toBeEnabled();
  const before = (await runRecords(page)).length;
  let ended!: () => void;
  const requestEnded = new Promise<void>((resolve) => (ended = resolve));
  // Started before the click, so it sees the request go out.
  const fault = during?.(requestEnded);
  await page.locator('#run').click();
  // A lost edge costs the client's timeout (at most 30 s) before a throttled device run.
  await page.waitForFunction((n) => (globalThis.tandemRuns?.length ?? 0) > n, before, { timeout: 240_000 }).finally(ended);
  const struck = fault === undefined ? null : await fault;
  await expect(page.locator('body')).not.toHaveAttribute('data-state', 'running');
  const records = await runRecords(page);
  expect(records.length).toBe(before + 1);
  const state = (await page.locator('body').getAttribute('data-state')) ?? '';
  const shown = state === 'done' ? ((await page.locator('#where').textContent()) ?? '') : ((await page.locator('#error').textContent()) ?? '');
  return { record: records.at(-1)!, state, shown, struck };
}

/** About the smallest re-encoded upload of a test photo (640 px JPEG). */
const SMALLEST_UPLOAD_BYTES = 20_000;

/**
 * Resolves true once `share` of the photo's bytes have passed the shaper towards the edge after the page sent its OCR
 * request: the moment to strike so the fault lands mid-upload. Resolves false when the request ends first without
 * sending the photo to the edge (auto mode may keep it on the device).
 */
export async function whenUploading(page: Page, shaper: LinkShaper, photoBytes: number, requestEnded: Promise<void>, share = 0.3): Promise<boolean> {
  // Counted from before Run is pressed: the request event can reach the test after much of the photo has passed.
  const start = shaper.counters().upBytes;
  let over = false;
  void requestEnded.then(() => (over = true));
  const request = await Promise.race([page.waitForRequest((r) => r.url().includes('/v1/ocr'), { timeout: 240_000 }), requestEnded.then(() => null)]);
  if (request === null) return false;
  expect(request.method()).toBe('POST');
  // The body may be the photo re-encoded smaller than the file: a share of what is actually sent, when the request
  // says (read without waiting: allHeaders() can wait for the reply, too late to strike); else of the smallest upload
  // a plan makes of such a photo.
  const sent = Number(request.headers()['content-length'] ?? request.postDataBuffer()?.length);
  const bytes = Number.isFinite(sent) && sent > 0 ? sent : Math.min(photoBytes, SMALLEST_UPLOAD_BYTES);
  for (const until = Date.now() + 60_000; Date.now() < until && !over; await sleep(5)) {
    if (shaper.counters().upBytes - start >= share * bytes) return true;
  }
  if (over) return false;
  throw new Error(`the photo (${bytes} bytes) did not start uploading within 60 s`);
}

/**
 * Auto mode decides per request: on the fault flows' fast link it usually sends the photo to the edge, but a slow
 * moment of the phone's can keep one on the device. Runs `run` until `fault` has struck, at most `tries` times.
 */
export async function untilStruck(run: (fault: Fault) => Promise<Attempt>, fault: Fault, tries = 3): Promise<Attempt> {
  let a = await run(fault);
  for (let i = 1; i < tries && !a.struck; i++) a = await run(fault);
  expect(a.struck, `the fault found no upload to strike in ${tries} requests`).toBe(true);
  return a;
}

/** Every request ended answered (lines, no error) or clearly refused (an error state with its message shown). */
export function expectAnsweredOrRefused(attempts: Attempt[]): void {
  for (const a of attempts) {
    if (a.record.ok) {
      expect(a.state).toBe('done');
      expect(a.record.error).toBeNull();
      expect(a.record.lines.length).toBeGreaterThan(0);
    } else {
      expect(a.state).toBe('error');
      expect(a.record.error?.message.length).toBeGreaterThan(0);
      expect(a.shown).toContain(a.record.error!.message.slice(0, 40));
    }
  }
}

/** The link the fault flows run on before the fault: fast enough that auto mode sends photos to the edge. */
export const FAST_LINK = { upKbps: 20_000, downKbps: 20_000, rttMs: 20 };

/**
 * A phone-sized page on the slowed browser with the models stored (downloaded unshaped, as on an earlier visit),
 * then reloaded on the fast link with its runtime started and the link probed.
 */
export async function openOnPhone(phone: Phone, edge: FaultyEdge, budgetMs: number): Promise<{ context: BrowserContext; page: Page }> {
  const context = await phone.browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  edge.shaper.shape(null);
  await page.goto(`${edge.url}/?learned=0&budget=${budgetMs}`);
  await page.locator('#models-panel summary').click();
  await page.locator('#download').click();
  await expect(page.locator('#backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 300_000 });
  edge.shaper.shape(constantShape(FAST_LINK));
  await page.reload();
  await expect(page.locator('#backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 180_000 });
  await expect(page.locator('#link')).toHaveAttribute('data-probe', 'done', { timeout: 60_000 });
  return { context, page };
}

/** One line per attempt for the test report: plan, where it ran, how long, and why it fell back or failed. */
export function describeAttempt(mode: Mode, a: Attempt): string {
  const r = a.record;
  return `${mode}: ${r.planId} on ${r.ranOn} in ${Math.round(r.wallMs)} ms${r.fellBack ? ` (fell back: ${r.fellBack})` : ''}${r.raceWon ? ` race won by ${r.raceWon}` : ''}${r.error ? ` error ${r.error.code}` : ''}`;
}
