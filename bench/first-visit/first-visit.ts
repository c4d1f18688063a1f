/**
 * A first visit on a slow phone link: a fresh browser profile opens the built app through the link shaper, picks a
 * photo, chooses "This device" and waits for the first on-device answer. Prints the bytes on the wire (Chromium's
 * encodedDataLength over the page, its workers and the service worker; and the shaper's own count of TCP payload)
 * and the time from navigation to the answer.
 *
 *   npm run build && npm run bench:first-visit [-- --down 1600 --up 750 --rtt 150 --label after --out bench/first-visit/results/first-visit.json]
 *
 * `--variant int8-weights` etc. adds `?variant=` to the address; `--unshaped` skips the link shaping (quick checks);
 * `--static DIR` serves another build.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import type { RunRecord } from '../../web/app/run-record';
import { startEdgeProcess, stopEdgeProcess } from '../../test-support/edge-process';
import { LinkShaper, constantShape } from '../../test-support/link-shaper';
import { REPO_ROOT } from '../../test-support/shared-set';
import { renderTextImage } from '../../test-support/text-image';
import { CdpByteCounter } from './cdp-bytes';

const { values } = parseArgs({
  options: {
    down: { type: 'string', default: '1600' },
    up: { type: 'string', default: '750' },
    rtt: { type: 'string', default: '150' },
    variant: { type: 'string' },
    label: { type: 'string', default: 'current' },
    out: { type: 'string', default: 'bench/first-visit/results/first-visit.json' },
    unshaped: { type: 'boolean', default: false },
    /** Built app to serve (default dist/), e.g. a copy of an earlier build to compare against. */
    static: { type: 'string' },
    'timeout-s': { type: 'string', default: '900' },
  },
});

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const LINES = ['First visit', 'Read on this phone', 'Total 12.50'];

interface Result {
  label: string;
  at: string;
  link: { downKbps: number; upKbps: number; rttMs: number } | 'unshaped';
  variant: string;
  /** From page.goto to the on-device answer published by the page. */
  msToAnswer: number;
  /** Chromium's encodedDataLength, network-served requests only, per target type. */
  cdpBytes: number;
  cdpByTarget: Record<string, number>;
  requests: number;
  /** TCP payload the shaper carried, both directions (what the link really moved). */
  wireDownBytes: number;
  wireUpBytes: number;
  lines: string[];
  ranOn: string;
  largest: { url: string; target: string; encodedBytes: number; contentEncoding: string }[];
}

async function main(): Promise<void> {
  const link = { downKbps: Number(values.down), upKbps: Number(values.up), rttMs: Number(values.rtt) };
  const edge = await startEdgeProcess(values.static ? { STATIC_DIR: resolve(values.static) } : {});
  const shaper = await LinkShaper.start({ target: { host: '127.0.0.1', port: edge.port }, shape: values.unshaped ? null : constantShape(link) });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  try {
    const photo = await renderTextImage({ lines: LINES });
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const counter = await CdpByteCounter.attach(await context.newCDPSession(page));
    const search = new URLSearchParams({ learned: '0', mode: 'device' });
    if (values.variant) search.set('variant', values.variant);
    const started = performance.now();
    await page.goto(`${shaper.url}/?${search}`);
    await page.locator('#file').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from(photo.png) });
    await page
      .locator('#mode')
      .selectOption('device')
      .catch(() => undefined);
    await page.locator('#run').click({ timeout: 120_000 });
    const record = await page
      .waitForFunction(() => (globalThis.tandemRuns ?? []).at(0), undefined, { timeout: Number(values['timeout-s']) * 1000, polling: 200 })
      .then((h) => h.jsonValue() as Promise<RunRecord>);
    const msToAnswer = performance.now() - started;
    // Let loadingFinished events of the answer's own requests arrive.
    await page.waitForTimeout(300);
    const wire = shaper.counters();
    const totals = counter.totals();
    if (!record.ok) throw new Error(`the first request failed: ${record.error?.code}: ${record.error?.message}`);
    const result: Result = {
      label: values.label!,
      at: new Date().toISOString(),
      link: values.unshaped ? 'unshaped' : link,
      variant: values.variant ?? 'default',
      msToAnswer,
      cdpBytes: totals.bytes,
      cdpByTarget: totals.byTarget,
      requests: totals.requests,
      wireDownBytes: wire.downBytes,
      wireUpBytes: wire.upBytes,
      lines: record.lines.map((l) => l.text),
      ranOn: record.ranOn ?? 'none',
      largest: counter.finished
        .filter((r) => !r.local)
        .sort((a, b) => b.encodedBytes - a.encodedBytes)
        .slice(0, 8)
        .map(({ url, target, encodedBytes, contentEncoding }) => ({ url: new URL(url).pathname, target, encodedBytes, contentEncoding })),
    };
    await save(result);
    print(result);
    if (record.ranOn !== 'device') throw new Error(`the answer came from ${record.ranOn}, not the device`);
  } finally {
    await browser.close();
    await shaper.close();
    await stopEdgeProcess(edge);
  }
}

/** Results accumulate in one file by label, so a before/after pair sits side by side. */
async function save(result: Result): Promise<void> {
  const path = resolve(REPO_ROOT, values.out!);
  let all: Result[] = [];
  try {
    all = JSON.parse(await readFile(path, 'utf8')) as Result[];
  } catch {
    // First result.
  }
  all = [...all.filter((r) => r.label !== result.label), result];
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(all, null, 1) + '\n');
  console.log(`wrote ${values.out}`);
}

function print(r: Result): void {
  const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
  const linkText = r.link === 'unshaped' ? 'unshaped' : `${r.link.downKbps} kbit/s down, ${r.link.upKbps} kbit/s up, ${r.link.rttMs} ms RTT`;
  console.log(`\nfirst visit → first on-device answer (${r.label}, variant ${r.variant}, ${linkText})`);
  console.log(
    `  bytes (CDP encodedDataLength, all targets): ${mb(r.cdpBytes)} in ${r.requests} requests  ${JSON.stringify(Object.fromEntries(Object.entries(r.cdpByTarget).map(([k, v]) => [k, mb(v)])))}`,
  );
  console.log(`  bytes (link shaper, TCP payload):            ${mb(r.wireDownBytes)} down, ${mb(r.wireUpBytes)} up`);
  console.log(`  time to answer:                              ${(r.msToAnswer / 1000).toFixed(1)} s`);
  console.log(`  lines: ${JSON.stringify(r.lines)}`);
  console.log('  largest:');
  for (const l of r.largest) console.log(`    ${mb(l.encodedBytes).padStart(9)}  ${l.contentEncoding.padEnd(4)} ${l.target.padEnd(14)} ${l.url}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
