import { expect, test } from '@playwright/test';
import { readText } from './support/app';
import { fixtureImage } from './support/fixtures';

const LINES = ['Read on the phone', 'Read on the edge', 'Same words'];

test('the same photo reads the same, correct lines on this device and on the edge', async ({ page }, testInfo) => {
  const image = await fixtureImage(testInfo, 'three-lines', LINES);
  await page.goto('/');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await expect(page.locator('#status')).toHaveAttribute('data-coi', 'true');

  const device = await readText(page, image, 'device');
  expect(device.target).toBe('device');
  expect(device.lines).toEqual(LINES);
  // Isolated pages get WASM threads; this box has two cores.
  await expect(page.locator('#backend')).toHaveAttribute('data-backend', 'wasm');
  expect(Number(await page.locator('#backend').getAttribute('data-threads'))).toBeGreaterThan(1);

  const edge = await readText(page, image, 'edge');
  expect(edge.target).toBe('edge');
  expect(edge.lines).toEqual(LINES);
  for (const stage of ['det', 'rec', 'total']) expect(edge.stages[stage]).toBeGreaterThan(0);
});
