import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { REPO_ROOT } from '../test-support/shared-set';
import { runRecords, waitForServiceWorker } from './support/app';
import { fixtureImage } from './support/fixtures';

const LINES = ['Milk 1.20', 'Bread 2.40', 'Total 3.60'];

test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

/** No serious or critical axe violations (WCAG 2.1 A/AA rules) on the screen as shown; a screenshot is kept either way. */
async function checkScreen(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`screen-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(`screen-${name}`, { path, contentType: 'image/png' });
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    `${name} screen`,
  ).toEqual([]);
}

test('on a phone: first visit, photo, edge answer, Copy puts the exact lines on the clipboard; every screen passes axe', async ({
  page,
  context,
  baseURL,
}, testInfo) => {
  const image = await fixtureImage(testInfo, 'receipt', LINES);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL! });
  await page.goto('/?mode=edge');
  await expect(page.locator('#mode')).toHaveValue('edge');
  await expect(page.locator('#status')).toHaveAttribute('data-edge', 'true');
  await checkScreen(page, testInfo, 'start');

  await page.locator('#file').setInputFiles(image);
  await expect(page.locator('#run')).toBeEnabled();
  await page.locator('#run').tap();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done');
  const [record] = await runRecords(page);
  expect(record!.ranOn).toBe('edge');
  await expect(page.locator('#lines li .text')).toHaveText(LINES);
  await checkScreen(page, testInfo, 'result');

  await page.locator('#copy').tap();
  await expect(page.locator('#copied')).toHaveText('Copied 3 lines.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(LINES.join('\n'));

  // A tapped line is marked (and its box drawn highlighted on the photo); tapping the photo there marks it too.
  await page.locator('#lines li').nth(1).tap();
  await expect(page.locator('#lines li').nth(1)).toHaveAttribute('aria-current', 'true');
  await page.locator('#lines li').nth(1).tap();
  await expect(page.locator('#lines li[aria-current]')).toHaveCount(0);
  await page.locator('#preview').tap({ position: await boxCentre(page, 2) });
  await expect(page.locator('#lines li').nth(2)).toHaveAttribute('aria-current', 'true');

  await page.locator('#details > summary').tap();
  await expect(page.locator('#runs-chart')).toHaveAttribute('data-runs', '1');
  await expect(page.locator('#runs-chart canvas')).toBeVisible();
  await checkScreen(page, testInfo, 'details');

  await page.locator('#models-panel > summary').tap();
  await expect(page.locator('#variants li[data-variant]')).not.toHaveCount(0);
  await expect(page.locator('#variants li[data-variant="int8-weights"]')).toHaveAttribute('data-in-use', 'true');
  await checkScreen(page, testInfo, 'models');
});

/** Where line `i`'s box centre sits on the preview canvas, in the canvas's CSS pixels. */
async function boxCentre(page: Page, i: number): Promise<{ x: number; y: number }> {
  const [fx, fy] = (await page.locator('#lines li').nth(i).getAttribute('data-centre'))!.split(',').map(Number);
  const rect = (await page.locator('#preview').boundingBox())!;
  return { x: fx! * rect.width, y: fy! * rect.height };
}

test('a new build shows "new version ready", and Reload brings it in', async ({ page }) => {
  await page.goto('/');
  await waitForServiceWorker(page);
  await expect(page.locator('#update')).toBeHidden();
  // A new build changes sw.js (its precache list); one more byte stands in for it.
  const sw = join(REPO_ROOT, 'dist', 'sw.js');
  const original = await readFile(sw);
  const { atime, mtime } = await stat(sw);
  try {
    await writeFile(sw, Buffer.concat([original, Buffer.from(`\n// build ${Date.now()}\n`)]));
    // The next visit finds it: it installs and waits for the person, who is asked.
    await page.reload();
    await expect(page.locator('#update')).toBeVisible();
    await checkAfterReload(page);
  } finally {
    await writeFile(sw, original);
    await utimes(sw, atime, mtime);
  }
});

async function checkAfterReload(page: Page): Promise<void> {
  const before = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL);
  await Promise.all([page.waitForEvent('load'), page.locator('#update-reload').click()]);
  await waitForServiceWorker(page);
  await expect(page.locator('#update')).toBeHidden();
  expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(before);
  // The waiting worker took over: nothing is left waiting.
  expect(await page.evaluate(async () => Boolean((await navigator.serviceWorker.getRegistration())?.waiting))).toBe(false);
}

test('an image shared to the installed app (Web Share Target) opens ready to read', async ({ page, request }, testInfo) => {
  const lines = ['Shared to Tandem'];
  const image = await fixtureImage(testInfo, 'shared', lines);
  await page.goto('/');
  const manifest = await (await request.get('/manifest.webmanifest')).json();
  expect(manifest.share_target).toMatchObject({ action: '/share-target', method: 'POST', enctype: 'multipart/form-data' });
  expect(manifest.share_target.params.files[0].accept).toContain('image/*');
  await waitForServiceWorker(page);

  // What the share sheet sends: a multipart POST to the share target, answered by the service worker.
  const landed = await page.evaluate(
    async (bytes) => {
      const form = new FormData();
      form.append('image', new File([new Uint8Array(bytes)], 'shared.png', { type: 'image/png' }));
      return (await fetch('/share-target', { method: 'POST', body: form })).url;
    },
    [...(await readFile(image))],
  );
  expect(new URL(landed).search).toBe('?shared=1');

  await page.goto('/?shared=1&mode=edge');
  await expect(page.locator('#preview')).toBeVisible();
  await expect(page.locator('#run')).toBeEnabled();
  expect(new URL(page.url()).searchParams.has('shared')).toBe(false);
  await page.locator('#run').tap();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done');
  await expect(page.locator('#lines li .text')).toHaveText(lines);
});
