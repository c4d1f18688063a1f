/**
 * OCR latency per stage after warm-up: the built app in headless Chromium, its OCR worker on WASM with one
 * thread and with the default thread count, and the same photos sent to the edge server from the page. Needs a running server with the built app:
 *   npm run build && PORT=8790 npx tsx edge-server/server.ts &
 *   npx tsx e2e/bench/device-latency.ts [--base http://127.0.0.1:8790] [--runs 5] [--warmup 12]
 * Writes bench/out/device-latency.{json,md}.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import type { Page } from '@playwright/test';
import { REPO_ROOT, sharedEvalDir } from '../../test-support/shared-set';
import { renderTextImage } from '../../test-support/text-image';
import { readText } from '../support/app';

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: 'http://127.0.0.1:8790' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '12' },
  },
});
const RUNS = Number(values.runs);
const WARMUP = Number(values.warmup);
const OUT_DIR = resolve(REPO_ROOT, 'bench', 'out');
const STAGES = ['decode', 'preprocess', 'det', 'postprocess', 'cls', 'rec', 'total'];

interface Row {
  config: string;
  image: string;
  median: Record<string, number>;
  lines: number;
}

async function images(): Promise<{ name: string; path: string }[]> {
  await mkdir(OUT_DIR, { recursive: true });
  const synthetic = await renderTextImage({ lines: ['Read on the phone', 'Read on the edge', 'Same words'] });
  const syntheticPath = join(OUT_DIR, 'synthetic-640.png');
  await writeFile(syntheticPath, synthetic.png);
  const list = [{ name: 'synthetic 640×280 (3 lines)', path: syntheticPath }];
  const shared = sharedEvalDir();
  if (shared) {
    list.push({ name: 'ICDAR15 img_100 1280×720', path: join(shared, 'images/icdar2015/img_100.jpg') });
    list.push({ name: 'ICDAR15 img_108 1280×720', path: join(shared, 'images/icdar2015/img_108.jpg') });
    list.push({ name: 'SROIE 009 604×1716', path: join(shared, 'images/sroie/009.jpg') });
  }
  return list;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(page: Page, path: string, mode: 'device' | 'edge'): Promise<{ stages: Record<string, number>; lines: number }> {
  const samples: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s, []]));
  let lines = 0;
  for (let i = 0; i < RUNS; i++) {
    const result = await readText(page, path, mode);
    lines = result.lines.length;
    for (const stage of STAGES) samples[stage]!.push(result.stages[stage] ?? NaN);
  }
  return { stages: Object.fromEntries(STAGES.map((s) => [s, median(samples[s]!)])), lines };
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const rows: Row[] = [];
// The machine may be shared; the load around the run says how far to trust the figures.
const loadBefore = loadavg()[0]!;
const loads: Record<string, unknown> = {};
try {
  const list = await images();
  // The edge row runs the same photos through the page's edge mode: server-side stage times from Server-Timing.
  for (const query of ['?backend=wasm&threads=1', '?backend=wasm', 'edge']) {
    const mode = query === 'edge' ? 'edge' : 'device';
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(values.base + '/' + (mode === 'edge' ? '' : query));
    const first = await readText(page, list[0]!.path, mode);
    const backend = page.locator('#backend');
    const config = mode === 'edge' ? 'edge (onnxruntime-node)' : `wasm ${await backend.getAttribute('data-threads')}T`;
    loads[config] = { coldFirstRun: first.stages, backend: await backend.textContent(), load: await backend.getAttribute('title') };
    // The browser tiers WASM up over many calls; earlier runs are slower and noisier.
    for (let i = 0; i < WARMUP; i++) await readText(page, list[i % list.length]!.path, mode);
    for (const image of list) {
      const { stages, lines } = await measure(page, image.path, mode);
      rows.push({ config, image: image.name, median: stages, lines });
      console.log(config, image.name, JSON.stringify(stages));
    }
    await context.close();
  }
} finally {
  await browser.close();
}

const table = [
  `| runtime | image | lines | ${STAGES.join(' | ')} |`,
  `|---|---|---|${STAGES.map(() => '---|').join('')}`,
  ...rows.map((r) => `| ${r.config} | ${r.image} | ${r.lines} | ${STAGES.map((s) => r.median[s]!.toFixed(0)).join(' | ')} |`),
].join('\n');
const load = { before: loadBefore, after: loadavg()[0]! };
const note =
  `Median of ${RUNS} runs after ${WARMUP} warm-up runs, milliseconds, measured in the OCR worker (headless Chromium, ` +
  `${new Date().toISOString().slice(0, 10)}; 1-min load average ${load.before.toFixed(1)} before, ${load.after.toFixed(1)} after).`;
await writeFile(join(OUT_DIR, 'device-latency.json'), JSON.stringify({ runs: RUNS, warmup: WARMUP, load, rows, loads }, null, 2));
await writeFile(join(OUT_DIR, 'device-latency.md'), `${note}\n\n${table}\n`);
console.log(`\n${note}\n\n${table}`);
