/**
 * Storage full: the browser lets this site keep far less than the models need (a 1 MB quota set over CDP). Loading
 * the models fails with a message that says so and what still works; nothing half-stored is left behind, and edge
 * mode keeps reading photos.
 */
import { expect, test } from '@playwright/test';
import { readText } from './support/app';
import { attempt, expectAnsweredOrRefused, type Attempt } from './support/faults';
import { fixtureImage } from './support/fixtures';
import { storedCounts } from './support/storage';

// The service worker's precache (the app shell and runtime) would hit the same quota; this test is about the models.
test.use({ serviceWorkers: 'block' });

const LINES = ['Storage is full', 'The edge still reads'];
const QUOTA_BYTES = 1_000_000;

test('models that do not fit the storage quota: a clear message, nothing stored, edge mode still works', async ({ page, context, baseURL }, testInfo) => {
  const image = await fixtureImage(testInfo, 'quota', LINES);
  await page.goto('/');
  // Enforced on writes (navigator.storage.estimate() may still report the profile's nominal quota).
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(baseURL!).origin, quotaSize: QUOTA_BYTES });

  const attempts: Attempt[] = [];
  const device = await attempt(page, image, 'device');
  attempts.push(device);
  expect(device.state).toBe('error');
  expect(device.record.error?.code).toBe('QuotaExceeded');
  await expect(page.locator('#error')).toHaveAttribute('data-code', 'QuotaExceeded');
  await expect(page.locator('#error')).toContainText('Not enough storage to keep the models');
  await expect(page.locator('#error')).toContainText('read on the edge');
  testInfo.annotations.push({ type: 'message', description: device.shown });
  expect(await storedCounts(page)).toEqual({ files: 0, models: 0, meta: 0 });

  // The edge does not need local storage.
  const edge = await readText(page, image, 'edge');
  attempts.push({ record: edge.record, state: 'done', shown: '', struck: null });
  expect(edge.target).toBe('edge');
  expect(edge.lines).toEqual(LINES);
  expectAnsweredOrRefused(attempts);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(baseURL!).origin });
});
