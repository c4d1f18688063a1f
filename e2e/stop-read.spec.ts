/**
 * Stop ends a read at once and frees the phone: a long receipt read on this device stops within one model run of
 * the press, not when the whole pass would have finished, and the next photo is read straight away.
 */
import { expect, test } from '@playwright/test';
import { readText, runRecords } from './support/app';
import { fixtureImage } from './support/fixtures';

test.use({ serviceWorkers: 'block' });

const ITEMS = ['Coffee beans', 'Whole milk', 'Rye bread', 'Butter', 'Apples', 'Green tea', 'Pasta', 'Tomatoes', 'Olive oil', 'Cheese'];
/** 60 lines: a long pass on the phone, almost all of it recognition. */
const RECEIPT = Array.from({ length: 60 }, (_, k) => `${String(k + 1).padStart(2, '0')} ${ITEMS[k % ITEMS.length]} ${(1.25 + k * 0.75).toFixed(2)}`);
const SHORT = ['Stopped and read again'];

test('Stop ends a long read on the phone within a model run, and the next photo is read at once', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  const receipt = await fixtureImage(testInfo, 'long-receipt', RECEIPT, { width: 900, height: 2400 });
  const short = await fixtureImage(testInfo, 'short', SHORT);
  await page.goto('/');
  // Models downloaded and warm before anything is timed.
  expect((await readText(page, short, 'device')).lines).toEqual(SHORT);

  const whole = await readText(page, receipt, 'device');
  expect(whole.lines.length).toBeGreaterThanOrEqual(50);
  const wholeMs = whole.record.wallMs;

  // The same read again, stopped a third of the way in (detection is done by then; recognition is under way).
  await page.locator('#file').setInputFiles(receipt);
  await expect(page.locator('#run')).toBeEnabled();
  await page.locator('#run').click();
  await expect(page.locator('#stop')).toBeVisible();
  await page.waitForTimeout(wholeMs / 3);
  const pressed = Date.now();
  await page.locator('#stop').click();
  await expect(page.locator('body')).not.toHaveAttribute('data-state', 'running', { timeout: 60_000 });
  const stopMs = Date.now() - pressed;
  await expect(page.locator('body')).toHaveAttribute('data-state', 'idle');
  await expect(page.locator('#stop')).toBeHidden();
  await expect(page.locator('#error')).toHaveAttribute('data-code', 'Stopped');
  const stopped = (await runRecords(page)).at(-1)!;
  expect(stopped.error?.code).toBe('Stopped');
  console.log(`stop-read: whole read ${Math.round(wholeMs)} ms; stopped ${Math.round(stopMs)} ms after the press, ${Math.round(stopped.wallMs)} ms in`);
  // Two thirds of the pass were left: the worker heard the stop before its next model run, not at the end.
  expect(stopMs).toBeLessThan(wholeMs / 4);
  expect(stopped.wallMs).toBeLessThan((wholeMs * 2) / 3);

  // The phone is free: the next photo is not queued behind the rest of the stopped pass.
  const next = await readText(page, short, 'device');
  expect(next.lines).toEqual(SHORT);
  expect(next.record.wallMs).toBeLessThan(wholeMs / 3);
});
