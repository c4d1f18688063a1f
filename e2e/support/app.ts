import { expect } from '@playwright/test';
import type { Page } from '@playwright/test';
import type { RunRecord } from '../../web/app/run-record';

export type Mode = 'device' | 'edge' | 'auto';

export interface ReadResult {
  lines: string[];
  target: string | undefined;
  reason: string | undefined;
  /** Constraints that ruled plans out (offline, edge-refused, ...). */
  constraints: string[];
  /** Milliseconds per stage as shown in #timings. */
  stages: Record<string, number>;
  /** The page's record of this request (globalThis.tandemRuns). */
  record: RunRecord;
}

/** Every request the page finished, in order, as it published them. */
export function runRecords(page: Page): Promise<RunRecord[]> {
  return page.evaluate(() => globalThis.tandemRuns ?? []);
}

/** Chooses the image, picks the mode, presses Run and waits for the app to finish; a shown error fails the test with its text. */
export async function readText(page: Page, imagePath: string, mode: Mode): Promise<ReadResult> {
  await page.locator('#file').setInputFiles(imagePath);
  await page.locator('#mode').selectOption(mode);
  // The app shows the photo first; Run is enabled once it is ready.
  await expect(page.locator('body')).toHaveAttribute('data-state', 'idle');
  await expect(page.locator('#run')).toBeEnabled();
  const before = (await runRecords(page)).length;
  await page.locator('#run').click();
  // First runs download models and compile 14 MB of WASM on a shared 2-core machine.
  await expect(page.locator('body')).not.toHaveAttribute('data-state', 'running', { timeout: 180_000 });
  const state = await page.locator('body').getAttribute('data-state');
  // Published before the state changes: exactly one new record, for this request.
  const records = await runRecords(page);
  expect(records.length).toBe(before + 1);
  const record = records.at(-1)!;
  expect(record.ok).toBe(state === 'done');
  if (state !== 'done') throw new Error(`OCR on ${mode} ended in state ${state}: ${await page.locator('#error').textContent()}`);
  const where = page.locator('#where');
  const stages: Record<string, number> = {};
  for (const row of await page.locator('#timings tr[data-stage]').all()) {
    stages[(await row.getAttribute('data-stage'))!] = Number(await row.getAttribute('data-ms'));
  }
  return {
    lines: await page.locator('#lines li .text').allTextContents(),
    target: (await where.getAttribute('data-target')) ?? undefined,
    reason: (await where.getAttribute('data-reason')) ?? undefined,
    constraints: ((await where.getAttribute('data-constraints')) ?? '').split(' ').filter(Boolean),
    stages,
    record,
  };
}

/** Resolves once a service worker controls the page, i.e. the app shell and runtime are precached. */
export async function waitForServiceWorker(page: Page): Promise<void> {
  await page.waitForFunction(async () => {
    await navigator.serviceWorker.ready;
    return navigator.serviceWorker.controller !== null;
  });
}
