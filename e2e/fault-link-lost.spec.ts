/**
 * The network drops mid-upload (the link stalls at 0 kbit/s both ways, as when a phone loses coverage): the page
 * stops waiting for the edge in time and reads the photo on the device, saying why, in auto and in edge mode.
 * When the link comes back, the edge takes the next request again.
 */
import { expect, test } from '@playwright/test';
import { sleep } from '../test-support/edge-process';
import { constantShape } from '../test-support/link-shaper';
import { launchPhone, type Phone } from '../test-support/phone';
import {
  attempt,
  describeAttempt,
  expectAnsweredOrRefused,
  FAST_LINK,
  FaultyEdge,
  openOnPhone,
  untilStruck,
  whenUploading,
  type Attempt,
  type Fault,
} from './support/faults';
import { photoLikeImage } from './support/photo-like';

const BUDGET_MS = 1500;
const DEAD = { upKbps: 0, downKbps: 0, rttMs: 20 };
const WORD = 'Coverage';

let edge: FaultyEdge;
let phone: Phone;

test.beforeAll(async () => {
  edge = await FaultyEdge.start();
  phone = await launchPhone({ throttle: 4 });
});

test.afterAll(async () => {
  await phone?.close();
  await edge?.close();
});

test('the link dropped mid-upload: the device answers and says why; back online, the edge answers again', async ({}, testInfo) => {
  test.setTimeout(600_000);
  const { context, page } = await openOnPhone(phone, edge, BUDGET_MS);

  const photo = await photoLikeImage(testInfo, 'link-lost', [`${WORD} lost mid upload`, 'Read on the device'], { width: 960, height: 720 });
  const attempts: Attempt[] = [];
  const run = async (mode: 'auto' | 'edge', fault?: Fault) => {
    const a = await attempt(page, photo.path, mode, fault);
    attempts.push(a);
    testInfo.annotations.push({ type: 'run', description: describeAttempt(mode, a) });
    return a;
  };
  const dropMidUpload: Fault = async (ended) => {
    const struck = await whenUploading(page, edge.shaper, photo.bytes, ended);
    if (struck) edge.shaper.shape(constantShape(DEAD));
    return struck;
  };
  const deviceAnswered = async (a: Attempt) => {
    expect(a.record.error).toBeNull();
    expect(a.record.ranOn).toBe('device');
    expect(a.record.lines.map((l) => l.text).join(' ')).toContain(WORD);
    await expect(page.locator('#where')).toContainText('This device');
    // Why: the edge failed (its deadline passed with the photo stuck, or the photo arrived too late for the edge to
    // finish in the budget left and it refused), or a raced device run finished first.
    if (a.record.raceWon === 'device') await expect(page.locator('#where')).toContainText('won the race');
    else {
      expect(a.record.fellBack).toMatch(/did not answer|broke off|Cannot reach|answered 503/);
      await expect(page.locator('#where')).toContainText('edge failed');
    }
  };

  let auto = await run('auto');
  if (auto.record.ranOn !== 'edge') auto = await run('auto');
  expect(auto.record.ranOn).toBe('edge');

  await deviceAnswered(await untilStruck((fault) => run('auto', fault), dropMidUpload));
  edge.shaper.shape(constantShape(FAST_LINK));

  // Edge mode waits out the client's own deadline for the stuck upload, then the device answers.
  expect((await run('edge')).record.ranOn).toBe('edge');
  const stuck = await untilStruck((fault) => run('edge', fault), dropMidUpload, 1);
  await deviceAnswered(stuck);
  expect(stuck.record.fellBack).toBeTruthy();

  // Coverage is back: the next request goes to the edge again.
  edge.shaper.shape(constantShape(FAST_LINK));
  await sleep(500);
  const next = await run('edge');
  expect(next.record.error).toBeNull();
  expect(next.record.ranOn).toBe('edge');

  expectAnsweredOrRefused(attempts);
  expect(await page.evaluate(() => globalThis.tandemRuns?.length)).toBe(attempts.length);
  await context.close();
});
