/**
 * A busy edge must not spoil the next requests: after a request sent while the edge's queue is full (refused with
 * predicted_ms and Retry-After, given up on, or admitted by its deadline), the next receipt is still read at the full
 * detector side, with its words.
 * A phone-class CPU (4× slower) and a fast link, as in the real-browser replay where the receipts after a refusal
 * ran on the phone at 320–480 px and lost almost every word.
 */
import { readFile } from 'node:fs/promises';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import type { RunRecord } from '../web/app/run-record';
import { readText } from './support/app';
import { photoLikeImage } from './support/photo-like';
import { describeRun } from './support/run-log';

test.use({ serviceWorkers: 'block' });

const ITEMS = ['Coffee beans', 'Whole milk', 'Rye bread', 'Butter', 'Apples', 'Green tea', 'Pasta', 'Tomatoes', 'Olive oil', 'Cheese', 'Yogurt'];
/** A receipt: 32 lines, a few words each. */
const RECEIPT = Array.from({ length: 32 }, (_, k) => `${String(k + 1).padStart(2, '0')} ${ITEMS[k % ITEMS.length]} ${(1.25 + k * 0.75).toFixed(2)}`);
const SIZE = { width: 720, height: 1400 };
/**
 * Room for a 32-line receipt at 960 px on a shared 2-core edge (about 1.3 s idle) after the quarter-speed phone has
 * re-encoded it (about 0.9 s), with the planner's p95 inside it (3.6–4.0 s on a quiet machine, 4.1–5.8 s with the
 * machine's other work beside it): the refusal comes from the queue, and at a budget the 960 px plan fits only at its
 * median, a smaller side is the right choice, not a defect.
 */
const BUDGET_MS = 6500;

async function emulate(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 10,
    downloadThroughput: (50_000 * 1000) / 8,
    uploadThroughput: (20_000 * 1000) / 8,
  });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
}

async function setBudget(page: Page, ms: number): Promise<void> {
  await page.locator('#budget').fill(String(ms));
  await page.locator('#budget').dispatchEvent('change');
}

function log(r: RunRecord, testInfo: TestInfo): void {
  const { line, detail } = describeRun(r);
  testInfo.annotations.push({ type: 'run', description: `${line} ${detail}` });
  console.log(`refusal-recovery: ${line}\n  ${detail}`);
}

const words = (text: string) =>
  text
    .toLowerCase()
    .split(/\s+/)
    .map((w) => w.replace(/[^a-z0-9.]/g, ''))
    .filter(Boolean);

/** Share of the expected words found among the words read (each read word counts once). */
function wordRecall(expected: string[], read: string[]): number {
  const pool = new Map<string, number>();
  for (const w of words(read.join(' '))) pool.set(w, (pool.get(w) ?? 0) + 1);
  const want = words(expected.join(' '));
  let found = 0;
  for (const w of want) {
    const n = pool.get(w) ?? 0;
    if (n > 0) {
      found++;
      pool.set(w, n - 1);
    }
  }
  return found / want.length;
}

test('after a request to a busy edge the next receipt is still read at the full detector side', async ({ page, request }, testInfo) => {
  const first = await photoLikeImage(testInfo, 'receipt-refused', RECEIPT, SIZE);
  const next = await photoLikeImage(testInfo, 'receipt-next', [...RECEIPT.slice(16), ...RECEIPT.slice(0, 16)], SIZE);
  await emulate(page);
  await page.goto('/');
  await page.locator('#models-panel summary').click();
  await page.locator('#download').click();
  await expect(page.locator('#backend')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.locator('#link')).toHaveAttribute('data-probe', 'done', { timeout: 30_000 });

  // A user who reads receipts has had some read by the edge before (its first runs at a new size are slow, as on a
  // server just started): the planner knows what a receipt costs the idle edge.
  await setBudget(page, BUDGET_MS);
  const earlier = await photoLikeImage(testInfo, 'receipt-earlier', [...RECEIPT.slice(8), ...RECEIPT.slice(0, 8)], SIZE);
  for (let i = 0; i < 3; i++) expect((await readText(page, earlier.path, 'edge')).record.ranOn).toBe('edge');

  // Fill the edge's queue with other clients' whole receipts (no deadline, straight from the test, not throttled):
  // the page's request, sent with its budget, is then refused by the server's deadline admission.
  await setBudget(page, BUDGET_MS);
  const body = await readFile(first.path);
  const others = Array.from({ length: 10 }, () =>
    request.post('/v1/ocr?maxSide=960', { data: body, headers: { 'content-type': 'image/png' }, timeout: 120_000 }).then((r) => r.status()),
  );
  await page.waitForTimeout(300);
  const refused = await readText(page, first.path, 'auto');
  log(refused.record, testInfo);
  expect(refused.record.planId).toMatch(/^(edge|split-rec):/);
  // What the busy edge did with it depends on how much budget the phone's detection beside it left: refused (503 with
  // its figures), given up on (asked without a deadline once the budget was spent), or admitted ahead of the queue by
  // its deadline. The next receipt must not suffer from any of these.
  const firstEdge = `${refused.record.fellBack ?? ''} ${refused.record.retried ?? ''}`.trim();
  testInfo.annotations.push({ type: 'first request', description: firstEdge || 'answered without an edge failure' });
  // The queue drains; the refusal's Retry-After has passed by the time the next photo is picked.
  expect(await Promise.all(others)).toEqual(others.map(() => 200));

  const result = await readText(page, next.path, 'auto');
  log(result.record, testInfo);
  expect(result.record.constraints).not.toContain('edge-refused');
  expect(result.record.planId).toContain('/960');
  expect(wordRecall(RECEIPT, result.lines)).toBeGreaterThanOrEqual(0.8);
});
