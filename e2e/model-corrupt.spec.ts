import { expect, test } from '@playwright/test';
import { readText } from './support/app';
import { fixtureImage } from './support/fixtures';
import { storedCounts } from './support/storage';

const LINES = ['Photos become text', 'Models from IndexedDB', 'Second visit'];
const DAMAGED = '**/models/ppocr-cls/1/model.onnx';

test('a model file that does not match its manifest hash is refused, nothing is stored, and a clean retry works', async ({ page, context }, testInfo) => {
  const image = await fixtureImage(testInfo, 'corrupt', LINES);
  // The server's real bytes with one flipped, as a broken proxy or disk would deliver them.
  await context.route(DAMAGED, async (route) => {
    const response = await route.fetch();
    const body = await response.body();
    body[body.length >> 1] ^= 0xff;
    await route.fulfill({ response, body });
  });

  await page.goto('/');
  await page.locator('#file').setInputFiles(image);
  await page.locator('#mode').selectOption('device');
  await expect(page.locator('body')).toHaveAttribute('data-state', 'idle');
  await page.locator('#run').click();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'error');
  await expect(page.locator('#error')).toHaveAttribute('data-code', 'ModelCorrupt');
  await expect(page.locator('#error')).toContainText('ppocr-cls/1/model.onnx');
  // The detector downloaded fine before the damaged file, yet is not kept: a download is stored whole or not at all.
  expect(await storedCounts(page)).toEqual({ files: 0, models: 0, meta: 0 });

  await context.unroute(DAMAGED);
  expect((await readText(page, image, 'device')).lines).toEqual(LINES);
  expect(await storedCounts(page)).toEqual({ files: 4, models: 3, meta: 1 });
});
