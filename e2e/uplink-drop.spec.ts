/**
 * Auto mode on a link that changes under it: the page reaches its edge only through the trace-driven link shaper
 * (so the change applies to bytes in flight, service-worker fetches included), in a browser slowed to a phone's
 * speed. While the uplink carries 20 Mbit/s the photo goes to the edge; when it falls to 50 kbit/s the page moves to
 * the device within three requests, and every request is answered. (At 100-200 kbit/s the smallest re-encode, 640 px,
 * reaches the edge in 2-6 s, level with this phone reading the photo itself in 3-7 s: either is a fair choice there.
 * At 50 kbit/s that upload alone takes 8 s.)
 */
import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import type { RunRecord } from '../web/app/run-record';
import { constantShape, LinkShaper } from '../test-support/link-shaper';
import { launchPhone, type Phone } from '../test-support/phone';
import { freePort, startEdgeProcess, stopEdgeProcess, type EdgeProcess } from '../test-support/edge-process';
import { REPO_ROOT } from '../test-support/shared-set';
import { photoLikeImage } from './support/photo-like';
import { describeRun } from './support/run-log';

declare global {
  var tandemRuns: RunRecord[] | undefined;
}

/** Room for the edge on the fast link, too little for this phone to read the photo at full size itself. */
const BUDGET_MS = 2500;
const FAST = { upKbps: 20_000, downKbps: 20_000, rttMs: 20 };
const SLOW = { upKbps: 50, downKbps: 20_000, rttMs: 20 };

let edge: EdgeProcess;
let shaper: LinkShaper;
let phone: Phone;

test.beforeAll(async () => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  edge = await startEdgeProcess({ STATIC_DIR: join(REPO_ROOT, 'dist'), EDGE_CORS_ORIGINS: origin, EDGE_PUBLIC_ORIGINS: origin });
  shaper = await LinkShaper.start({ target: { host: '127.0.0.1', port: edge.port }, port });
  phone = await launchPhone({ throttle: 4 });
});

test.afterAll(async () => {
  await phone?.close();
  await shaper?.close();
  if (edge) await stopEdgeProcess(edge);
});

test('auto mode leaves the edge for the device when the uplink falls mid-run', async ({}, testInfo) => {
  test.setTimeout(480_000);
  const context = await phone.browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  // The models arrive unshaped, as on an earlier visit; the link is shaped from the page's next load on.
  shaper.shape(null);
  await page.goto(`${shaper.url}/?learned=0&budget=${BUDGET_MS}`);
  await page.locator('#models-panel summary').click();
  await page.locator('#download').click();
  await expect(page.locator('#backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 300_000 });

  shaper.shape(constantShape(FAST));
  await page.reload();
  await page.locator('#mode').selectOption('auto');
  await expect(page.locator('#backend')).toHaveAttribute('data-backend', 'wasm', { timeout: 180_000 });

  const photo = await photoLikeImage(testInfo, 'uplink-drop', ['Uplink falls mid run', 'Read on the device'], { width: 960, height: 720 }, 'jpeg');
  // At 50 kbit/s the photo alone takes far longer to upload than the budget allows.
  expect((photo.bytes * 8) / SLOW.upKbps).toBeGreaterThan(BUDGET_MS);

  const read = async (): Promise<RunRecord> => {
    const seen = await page.evaluate(() => globalThis.tandemRuns?.length ?? 0);
    await page.locator('#file').setInputFiles(photo.path);
    await expect(page.locator('#run')).toBeEnabled();
    await page.locator('#run').click();
    await page.waitForFunction((n) => (globalThis.tandemRuns?.length ?? 0) > n, seen, { timeout: 120_000 });
    const record = await page.evaluate((n) => globalThis.tandemRuns![n], seen);
    const { line, detail } = describeRun(record);
    testInfo.annotations.push({ type: 'run', description: `${line} ${detail}` });
    console.log(`uplink-drop: ${line}\n  ${detail}`);
    return record;
  };

  const before = [await read(), await read()];
  for (const r of before) expect(r.error).toBeNull();
  // On the fast link the phone is too slow for the budget at full accuracy: the photo is read on the edge.
  expect(before.at(-1)!.ranOn).toBe('edge');

  shaper.shape(constantShape(SLOW));
  const after: RunRecord[] = [];
  for (let i = 0; i < 3; i++) {
    after.push(await read());
    if (after.at(-1)!.ranOn === 'device' && after.at(-1)!.planId?.startsWith('device')) break;
  }
  // Every request was answered, with the photo's text.
  for (const r of [...before, ...after]) {
    expect(r.error).toBeNull();
    expect(r.lines.map((l) => l.text).join(' ')).toContain('Uplink');
  }
  expect(await page.evaluate(() => globalThis.tandemRuns?.length)).toBe(before.length + after.length);
  // Within three requests of the drop, auto mode plans on the device.
  expect(after.at(-1)!.ranOn).toBe('device');
  expect(after.at(-1)!.planId).toMatch(/^device:/);
  await context.close();
});
