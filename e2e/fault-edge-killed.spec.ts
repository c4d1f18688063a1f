/**
 * The edge process dies (SIGKILL) while a photo is on its way to it, in auto mode and in edge mode: the page reads
 * the photo on the device and says why. Started again on the same port, the edge takes the next request.
 * The page runs in a browser slowed to a phone's speed, so auto mode sends photos to the edge on a fast link.
 */
import { expect, test } from '@playwright/test';
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
const WORD = 'Killed';

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

test('the edge killed mid-request: the device answers and says why; restarted, the edge answers again', async ({}, testInfo) => {
  test.setTimeout(600_000);
  const { context, page } = await openOnPhone(phone, edge, BUDGET_MS);

  const photo = await photoLikeImage(testInfo, 'edge-killed', [`${WORD} mid request`, 'Read on the device'], { width: 960, height: 720 });
  const attempts: Attempt[] = [];
  const run = async (mode: 'auto' | 'edge', fault?: Fault) => {
    const a = await attempt(page, photo.path, mode, fault);
    attempts.push(a);
    testInfo.annotations.push({ type: 'run', description: describeAttempt(mode, a) });
    return a;
  };
  const killMidUpload: Fault = async (ended) => {
    const struck = await whenUploading(page, edge.shaper, photo.bytes, ended);
    if (struck) edge.kill();
    return struck;
  };
  const fellBackToDevice = async (a: Attempt) => {
    expect(a.record.error).toBeNull();
    expect(a.record.ranOn).toBe('device');
    expect(a.record.fellBack).toBeTruthy();
    expect(a.record.lines.map((l) => l.text).join(' ')).toContain(WORD);
    // The page says where it ran and why.
    await expect(page.locator('#where')).toContainText('This device');
    await expect(page.locator('#where')).toContainText('edge failed');
    expect(a.shown).toContain(a.record.fellBack!.slice(0, 30));
  };

  // Auto mode reaches the edge on this link (the phone is too slow for the budget).
  let auto = await run('auto');
  if (auto.record.ranOn !== 'edge') auto = await run('auto');
  expect(auto.record.ranOn).toBe('edge');

  await fellBackToDevice(await untilStruck((fault) => run('auto', fault), killMidUpload));
  await edge.restart();

  // Edge mode: the edge answers, then dies mid-request; the device steps in.
  expect((await run('edge')).record.ranOn).toBe('edge');
  await fellBackToDevice(await untilStruck((fault) => run('edge', fault), killMidUpload, 1));

  // Started again on the same port, the edge takes the very next request.
  await edge.restart();
  const next = await run('edge');
  expect(next.record.error).toBeNull();
  expect(next.record.ranOn).toBe('edge');
  expect(next.record.fellBack).toBeNull();
  // Auto mode, which saw the edge fail, goes back to it within three requests.
  const back: Attempt[] = [];
  for (let i = 0; i < 3 && back.at(-1)?.record.ranOn !== 'edge'; i++) back.push(await run('auto'));
  expect(back.at(-1)!.record.ranOn).toBe('edge');
  testInfo.annotations.push({ type: 'auto back on the edge', description: `after ${back.length} request(s)` });

  // Every request was answered or clearly refused; none was lost.
  expectAnsweredOrRefused(attempts);
  expect(await page.evaluate(() => globalThis.tandemRuns?.length)).toBe(attempts.length);
  await context.close();
});
