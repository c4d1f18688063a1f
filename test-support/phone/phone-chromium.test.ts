import { existsSync, readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchPhone, workerBusyLoopMs, type Phone } from './phone-chromium';

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`phone-chromium tests skipped: ${CHROMIUM} is not installed (e2e/ensure-chromium.sh)`);

const open: Phone[] = [];
afterAll(async () => {
  for (const p of open) await p.close().catch(() => undefined);
});

/** Fastest of three runs: the machine is shared, the least disturbed run is the closest to its real speed. */
async function unthrottledMs(): Promise<number> {
  const plain = await launchPhone({ throttle: 1 });
  open.push(plain);
  expect(plain.method).toBe('none');
  const page = await plain.browser.newPage();
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) runs.push(await workerBusyLoopMs(page));
  await plain.close();
  return Math.min(...runs);
}

describe.skipIf(!haveChromium)('launchPhone', () => {
  it('slows a dedicated worker at least 3x at throttle 4, and removes its CPU group on close', async () => {
    const base = await unthrottledMs();
    const phone = await launchPhone({ throttle: 4 });
    open.push(phone);
    if (phone.method !== 'cgroup') {
      console.warn(`cgroup CPU quota unavailable here (method ${phone.method}): the whole-browser slowdown is not tested`);
      return;
    }
    const group = readdirSync('/sys/fs/cgroup/cpu').filter((d) => d.startsWith(`tandem-phone-${process.pid}-`));
    expect(group).toHaveLength(1);
    const page = await phone.browser.newPage();
    const check = await phone.verify(page, base);
    console.log(`worker busy loop: ${base.toFixed(0)} ms unthrottled, ${check.insideWorkerMs.toFixed(0)} ms at throttle 4 (×${check.ratio!.toFixed(1)})`);
    expect(check.ratio).toBeGreaterThanOrEqual(3);
    await phone.close();
    expect(readdirSync('/sys/fs/cgroup/cpu').filter((d) => group.includes(d))).toEqual([]);
  });
});
