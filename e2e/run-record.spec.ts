/**
 * Every finished request leaves a machine-readable record (globalThis.tandemRuns and a `tandem:run` event), failures
 * included; the address chooses auto mode's policy, the budget and whether learnt state is used.
 */
import { expect, test } from '@playwright/test';
import { readText, runRecords } from './support/app';
import { fixtureImage } from './support/fixtures';

test.use({ serviceWorkers: 'block' });

const LINES = ['Run records', 'for every request'];

test('records each request with its decision and timings, under the policy and budget from the address', async ({ page, context }, testInfo) => {
  const image = await fixtureImage(testInfo, 'record', LINES);
  await page.goto('/?policy=layercake&learned=0&budget=1700');
  await expect(page.locator('#budget')).toHaveValue('1700');
  await expect(page.locator('#profiles')).toHaveAttribute('data-policy', 'layercake');
  await expect(page.locator('#profiles')).toHaveAttribute('data-learned', 'false');
  await page.evaluate(() => {
    (globalThis as unknown as { events: unknown[] }).events = [];
    addEventListener('tandem:run', (e) => (globalThis as unknown as { events: unknown[] }).events.push((e as CustomEvent).detail));
  });

  const edge = await readText(page, image, 'edge');
  expect(edge.lines).toEqual(LINES);
  const r = edge.record;
  expect(r).toMatchObject({ seq: 0, mode: 'edge', policy: 'edge', budgetMs: 1700, ok: true, ranOn: 'edge', error: null });
  expect(r.lines.map((l) => l.text)).toEqual(LINES);
  expect(r.planId).toMatch(/^edge:/);
  expect(r.edgeServerMs).toBeGreaterThan(0);
  expect(r.measuredStages.det).toBeGreaterThan(0);
  expect(r.predicted!.p95Ms).toBeGreaterThanOrEqual(r.predicted!.expectedMs);
  expect(r.predicted!.stages.length).toBeGreaterThan(0);
  // Request start to lines shown: at least the edge's own time.
  expect(r.wallMs).toBeGreaterThanOrEqual(r.edgeServerMs!);
  expect(r.image.bytes).toBeGreaterThan(0);
  expect(JSON.parse((await page.locator('#record').textContent())!)).toEqual(r);

  const auto = await readText(page, image, 'auto');
  expect(auto.lines).toEqual(LINES);
  expect(auto.record).toMatchObject({ seq: 1, mode: 'auto', policy: 'layercake', ok: true });
  await expect(page.locator('#plan')).toHaveAttribute('data-policy', 'layercake');
  await expect(page.locator('#plan')).toContainText('layercake policy');

  // An edge that cannot be reached in edge mode: the device answers, and the record says the edge failed.
  await context.setOffline(true);
  await page.locator('#mode').selectOption('edge');
  await page.locator('#run').click();
  await expect(page.locator('body')).not.toHaveAttribute('data-state', 'running', { timeout: 120_000 });
  await context.setOffline(false);
  const records = await runRecords(page);
  expect(records).toHaveLength(3);
  expect(records[2]).toMatchObject({ seq: 2, mode: 'edge' });
  if (records[2]!.ok) expect(records[2]).toMatchObject({ ranOn: 'device', fellBack: expect.any(String) });
  else expect(records[2]!.error!.code).toBe(await page.locator('#error').getAttribute('data-code'));
  expect(await page.evaluate(() => (globalThis as unknown as { events: unknown[] }).events)).toEqual(records);

  // learned=0: nothing the runs taught the planner was stored.
  const stored = await page.evaluate(
    () =>
      new Promise<boolean>((resolve) => {
        const open = indexedDB.open('tandem-placement');
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('learned')) return resolve(false);
          const get = db.transaction('learned').objectStore('learned').get('planner');
          get.onsuccess = () => resolve(get.result !== undefined);
          get.onerror = () => resolve(false);
        };
        open.onerror = () => resolve(false);
      }),
  );
  expect(stored).toBe(false);
});
