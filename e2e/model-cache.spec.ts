import { expect, test } from '@playwright/test';
import type { Request } from '@playwright/test';
import { readText } from './support/app';
import { fixtureImage } from './support/fixtures';

const LINES = ['Second visit', 'No network needed'];

/** Model files (not the small manifest, which is revalidated on every visit). */
function isModelFile(request: Request): boolean {
  const path = new URL(request.url()).pathname;
  // The manifest and the planner's profiles are small documents read on every visit, not model files.
  return path.startsWith('/models/') && path !== '/models/manifest.json' && path !== '/models/profiles.json';
}

test('a second visit loads the models from IndexedDB without fetching them', async ({ context }, testInfo) => {
  const image = await fixtureImage(testInfo, 'cache', LINES);
  const requests: { url: string; fromServiceWorker: boolean }[] = [];
  // Context-wide, so requests made by the service worker and the OCR worker are seen too.
  context.on('request', (request) => {
    if (isModelFile(request)) requests.push({ url: request.url(), fromServiceWorker: request.serviceWorker() !== null });
  });

  const first = await context.newPage();
  await first.goto('/');
  expect((await readText(first, image, 'device')).lines).toEqual(LINES);
  await expect(first.locator('#backend')).toHaveAttribute('data-model-source', 'network');
  expect(requests.length).toBeGreaterThanOrEqual(3);
  await first.close();

  requests.length = 0;
  const second = await context.newPage();
  await second.goto('/');
  expect((await readText(second, image, 'device')).lines).toEqual(LINES);
  await expect(second.locator('#backend')).toHaveAttribute('data-model-source', 'cache');
  expect(requests).toEqual([]);

  await second.locator('#models-panel summary').click();
  await expect(second.locator('#models li[data-model]')).toHaveCount(3);
});
