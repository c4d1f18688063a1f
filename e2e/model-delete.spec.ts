import { expect, test } from '@playwright/test';
import { readText } from './support/app';
import { fixtureImage } from './support/fixtures';
import { storedCounts } from './support/storage';

const LINES = ['Read on the phone', 'Same words'];

test('models download on request, can be listed and deleted, and a deleted one comes back on next use', async ({ page, context }, testInfo) => {
  const image = await fixtureImage(testInfo, 'delete', LINES);
  const fetched: string[] = [];
  context.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    // The manifest and the planner's profiles are small documents read on every visit, not model files.
    if (path.startsWith('/models/') && path !== '/models/manifest.json' && path !== '/models/profiles.json') fetched.push(path);
  });

  await page.goto('/');
  await page.locator('#models-panel summary').click();
  await page.locator('#download').click();
  await expect(page.locator('#backend')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.locator('#progress-wrap')).toBeHidden();
  await expect(page.locator('#models li[data-model]')).toHaveCount(3);
  // The phone's default variant set: int8 weights (the dictionary is shared with the fp32 recogniser, at its path).
  expect(fetched.sort()).toEqual([
    '/models/ppocr-cls-int8w/1/model.onnx',
    '/models/ppocr-det-int8w/1/model.onnx',
    '/models/ppocr-rec-int8w/1/model.onnx',
    '/models/ppocr-rec/1/ppocr_keys_v1.txt',
  ]);

  await page.locator('#models li[data-model="ppocr-rec-int8w"] button').click();
  await expect(page.locator('#models li[data-model]')).toHaveCount(2);
  await expect(page.locator('#backend')).toHaveAttribute('data-backend', '');
  // The dictionary went with the recogniser: no other stored model uses it.
  expect(await storedCounts(page)).toEqual({ files: 2, models: 2, meta: 1 });

  fetched.length = 0;
  expect((await readText(page, image, 'device')).lines).toEqual(LINES);
  expect(fetched.sort()).toEqual(['/models/ppocr-rec-int8w/1/model.onnx', '/models/ppocr-rec/1/ppocr_keys_v1.txt']);
  await expect(page.locator('#models li[data-model]')).toHaveCount(3);
});
