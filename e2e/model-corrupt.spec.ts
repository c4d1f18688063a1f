import { expect, test } from '@playwright/test';
import { readText } from './support/app';
import { fixtureImage } from './support/fixtures';
import { storedCounts } from './support/storage';

const LINES = ['Photos become text', 'Models from IndexedDB', 'Second visit'];
const DAMAGED = '**/models/ppocr-cls-int8w/1/model.onnx';

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
  await expect(page.locator('#error')).toContainText('ppocr-cls-int8w/1/model.onnx');
  // The detector downloaded fine before the damaged file, yet is not kept: a download is stored whole or not at all.
  expect(await storedCounts(page)).toEqual({ files: 0, models: 0, meta: 0 });

  await context.unroute(DAMAGED);
  expect((await readText(page, image, 'device')).lines).toEqual(LINES);
  expect(await storedCounts(page)).toEqual({ files: 4, models: 3, meta: 1 });
});

test('a stored model file damaged on the device is detected by its hash and downloaded again', async ({ page, context }, testInfo) => {
  const image = await fixtureImage(testInfo, 'stored-corrupt', LINES);
  await page.goto('/');
  expect((await readText(page, image, 'device')).lines).toEqual(LINES);
  expect(await storedCounts(page)).toEqual({ files: 4, models: 3, meta: 1 });

  // Flip one byte of the stored classifier, as bad flash or a browser bug would.
  const damaged = await page.evaluate(
    () =>
      new Promise<string>((resolve, reject) => {
        const open = indexedDB.open('tandem-models');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const files = db.transaction('files', 'readonly').objectStore('files').getAll();
          files.onerror = () => reject(files.error);
          files.onsuccess = async () => {
            const file = (files.result as { sha256: string; path: string; blob: Blob }[]).find(
              (f) => f.path.includes('ppocr-cls') && f.path.endsWith('model.onnx'),
            )!;
            const bytes = new Uint8Array(await file.blob.arrayBuffer());
            bytes[bytes.length >> 1]! ^= 0xff;
            const put = db
              .transaction('files', 'readwrite')
              .objectStore('files')
              .put({ ...file, blob: new Blob([bytes]) });
            put.onsuccess = () => {
              db.close();
              resolve(file.path);
            };
            put.onerror = () => reject(put.error);
          };
        };
      }),
  );

  // The next visit starts the device runtime from storage: only the damaged file may be fetched again.
  const fetched: string[] = [];
  await context.route('**/models/**', async (route) => {
    fetched.push(new URL(route.request().url()).pathname);
    await route.continue();
  });
  await page.reload();
  const again = await readText(page, image, 'device');
  expect(again.lines).toEqual(LINES);
  expect(again.record.ranOn).toBe('device');
  // Model files live under /models/<name>/<version>/ (manifest.json and profiles.json are revalidated each visit).
  expect(fetched.filter((p) => /^\/models\/[^/]+\/\d+\//.test(p))).toEqual([`/models/${damaged}`]);
  expect(await storedCounts(page)).toEqual({ files: 4, models: 3, meta: 1 });
  // What is stored now matches its hash again.
  const intact = await page.evaluate(
    () =>
      new Promise<boolean>((resolve, reject) => {
        const open = indexedDB.open('tandem-models');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const files = open.result.transaction('files', 'readonly').objectStore('files').getAll();
          files.onsuccess = async () => {
            let ok = true;
            for (const f of files.result as { sha256: string; blob: Blob }[]) {
              const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await f.blob.arrayBuffer()));
              ok &&= Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') === f.sha256;
            }
            open.result.close();
            resolve(ok);
          };
        };
      }),
  );
  expect(intact).toBe(true);
});
