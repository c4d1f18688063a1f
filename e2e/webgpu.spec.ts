import { expect, test } from '@playwright/test';
import { readText } from './support/app';
import { fixtureImage } from './support/fixtures';

const SIZE = { width: 256, height: 64 };

test('the WebGPU backend reads a small image like WASM does, and Auto keeps software adapters on WASM', async ({ page }, testInfo) => {
  // SwiftShader runs these models ~80x slower than WASM: one short line in a small image keeps this under a minute.
  const lines = ['Same words'];
  const image = await fixtureImage(testInfo, 'webgpu', lines, SIZE);

  await page.goto('/?backend=webgpu');
  const hasAdapter = await page.evaluate(async () => (await navigator.gpu?.requestAdapter()) != null);
  test.skip(!hasAdapter, 'this Chromium exposes no WebGPU adapter even with --enable-unsafe-webgpu');

  const gpu = await readText(page, image, 'device');
  await expect(page.locator('#backend')).toHaveAttribute('data-backend', 'webgpu');
  expect(gpu.lines).toEqual(lines);

  await page.goto('/');
  await expect(page.locator('#backend')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.locator('#backend')).toContainText('software WebGPU adapter');
});
