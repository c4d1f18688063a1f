import { expect, test } from '@playwright/test';
import { readText, waitForServiceWorker } from './support/app';
import { fixtureImage } from './support/fixtures';

const LINES = ['No network needed', 'Second visit'];

test('after one online visit, OCR keeps working on the device with the network gone', async ({ page, context }, testInfo) => {
  const image = await fixtureImage(testInfo, 'offline', LINES);
  await page.goto('/');
  await waitForServiceWorker(page);
  // First use downloads the models into IndexedDB.
  expect((await readText(page, image, 'device')).lines).toEqual(LINES);
  expect((await readText(page, image, 'edge')).lines).toEqual(LINES);
  const cachedPaths = () =>
    page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) {
        for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
      }
      return urls;
    });
  // The device runtime is not precached: it was fetched for the first device run and is then kept for offline use.
  await expect.poll(async () => (await cachedPaths()).some((p) => /^\/assets\/ort-wasm-simd-threaded-[\w-]+\.wasm$/.test(p))).toBe(true);
  // Models live in IndexedDB and API answers are never reused: neither may sit in the service worker's caches.
  const cached = await cachedPaths();
  expect(cached.filter((path) => /^\/(v1|v2|models)\//.test(path))).toEqual([]);

  await context.setOffline(true);
  await page.reload();
  await expect(page.locator('#status')).toHaveAttribute('data-online', 'false');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

  const offline = await readText(page, image, 'auto');
  expect(offline.target).toBe('device');
  expect(offline.constraints).toContain('offline');
  expect(offline.lines).toEqual(LINES);
});
