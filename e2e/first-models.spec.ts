/**
 * A phone that holds no models, on a link where the device is the better place (a slow uplink, a generous budget):
 * auto mode's planner fetches the quantized set, the smallest within a point of fp32's word recall, and says so.
 * A fresh browser profile: empty IndexedDB, no service worker (blocked, so every request is the page's own and the
 * page's CDP session throttles it).
 */
import { expect, test } from '@playwright/test';
import { readText } from './support/app';
import { photoLikeImage } from './support/photo-like';

test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, serviceWorkers: 'block' });

const LINES = ['Quantized on the phone', 'Chosen by the planner'];

test('auto mode on a phone without models fetches the quantized set and says so in How it ran', async ({ page }, testInfo) => {
  const image = await photoLikeImage(testInfo, 'first-models', LINES, { width: 800, height: 450 });
  const modelFiles: string[] = [];
  page.context().on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (/\/models\/.*\.onnx$/.test(path)) modelFiles.push(path);
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  // A home link: 20 Mbit/s down, a slow 300 kbit/s up.
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 20,
    downloadThroughput: (20_000 * 1000) / 8,
    uploadThroughput: (300 * 1000) / 8,
  });

  await page.goto('/?mode=auto&budget=60000');
  // The probe measures both directions: the planner then knows what fetching the models costs.
  await expect(page.locator('#link')).toHaveAttribute('data-probe', 'done', { timeout: 90_000 });
  // On a machine too busy to move the probe at a home link's speed the models' download is rightly predicted too
  // slow for the budget, and the edge gets the photo: say so rather than fail on the plan.
  expect(Number(await page.locator('#link').getAttribute('data-down-kbps')), 'downlink as probed').toBeGreaterThan(4000);
  expect(modelFiles).toEqual([]);

  const result = await readText(page, image.path, 'auto');
  const plan = page.locator('#plan');
  // The plan as shown, with the link as probed: kept in the report for reading.
  testInfo.annotations.push({ type: 'plan', description: `${await plan.textContent()} | ${await page.locator('#link').textContent()}` });
  expect(result.lines).toEqual(LINES);
  expect(result.target).toBe('device');

  // The planner's plan ran the int8-weights set and fetched it: its three files, nothing of fp32 or another set.
  await expect(plan).toHaveAttribute('data-kind', 'device');
  await expect(plan).toHaveAttribute('data-variant', 'int8-weights');
  expect(Number(await plan.getAttribute('data-fetch-bytes'))).toBeGreaterThan(1_000_000);
  expect([...new Set(modelFiles)].sort()).toEqual([
    '/models/ppocr-cls-int8w/1/model.onnx',
    '/models/ppocr-det-int8w/1/model.onnx',
    '/models/ppocr-rec-int8w/1/model.onnx',
  ]);

  // "How it ran" says in plain words that the models were downloaded first.
  await page.locator('#details > summary').tap();
  await expect(plan).toBeVisible();
  await expect(plan.locator('.why').first()).toContainText(/Downloads the quantized models \(\d+\.\d MB, (about \d+ s|under a second)\) first/);
  await expect(plan).toContainText('Device · detector int8 weights @ 960');
  const path = testInfo.outputPath('screen-first-models.png');
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach('screen-first-models', { path, contentType: 'image/png' });

  // The set is kept: the models panel shows it on this phone, in use.
  await page.locator('#models-panel > summary').tap();
  await expect(page.locator('#variants li[data-variant="int8-weights"]')).toHaveAttribute('data-stored', 'true');
  await expect(page.locator('#variants li[data-variant="int8-weights"]')).toHaveAttribute('data-in-use', 'true');
  await expect(page.locator('#variants li[data-variant="fp32"]')).toHaveAttribute('data-stored', 'false');
});
