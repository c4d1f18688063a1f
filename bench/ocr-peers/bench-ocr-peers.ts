/**
 * Tandem's edge and device paths beside tesseract.js and @gutenye/ocr-node, in one process, images alternating
 * between runners (the starting runner rotates per image) so machine load falls on all alike.
 *   npm run bench:ocr-peers -- [--set DIR] [--out FILE] [--limit N]
 * Metric: end-to-end word recall of eval:ocr; time: wall ms per image from the encoded file, decode included.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadSet } from '../eval-ocr/dataset';
import { wordRecall } from '../eval-ocr/metrics';
import { createRunner } from '../eval-ocr/runners';
import { sharedEvalDir } from '../../test-support/shared-set';
import { parsePeerBenchArgs } from './args';
import { createGutenye, createTesseract, type TextRunner } from './peers';
import { markdownTable, meetsGoal, Tally, type RunnerFigures } from './tally';

function fail(e: Error): never {
  console.error(`bench:ocr-peers: ${e.name}: ${e.message}`);
  process.exit(2);
}
function err(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

let args;
try {
  args = parsePeerBenchArgs(process.argv.slice(2));
} catch (e) {
  fail(e as Error);
}
const setDir = args.set ? resolve(args.set) : sharedEvalDir();
if (!setDir || !existsSync(join(setDir, 'det.jsonl'))) {
  fail(
    err(
      'SET_MISSING',
      `no det.jsonl in ${setDir ?? resolve('../shared/ocr-eval/dev')}: pass --set DIR pointing at an OCR evaluation set (det.jsonl + images/)`,
    ),
  );
}
const rows = loadSet(setDir).det.slice(0, args.limit);
if (!rows.length) fail(err('SET_EMPTY', `${setDir}/det.jsonl holds no images`));

function fromPipeline(r: Awaited<ReturnType<typeof createRunner>>): TextRunner {
  return { describe: r.describe, read: async (file) => (await r.ocr(file)).lines.map((l) => l.text), release: () => r.release() };
}

// @gutenye/ocr-node logs timings on every call; keep its chatter out of the report.
const log = console.log.bind(console);
const quiet = () => {};
Object.assign(console, { log: quiet, time: quiet, timeEnd: quiet });

const runners: Record<string, TextRunner> = {};
const tallies: Record<string, Tally> = {};
try {
  runners['tandem edge'] = fromPipeline(await createRunner('edge', { run: {}, overrides: {} }));
  runners['tandem device'] = fromPipeline(await createRunner('device', { run: {}, overrides: {} }));
  runners['tesseract.js'] = await createTesseract();
  runners['@gutenye/ocr-node'] = await createGutenye();
  const names = Object.keys(runners);
  for (const name of names) {
    tallies[name] = new Tally();
    // Untimed first image: session warm-up and first-shape allocation stay out of the figures.
    await runners[name].read(join(setDir, rows[0].image));
    log(`${name}: ${runners[name].describe}`);
  }
  for (const [i, row] of rows.entries()) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      const t0 = performance.now();
      const texts = await runners[name].read(join(setDir, row.image));
      const ms = performance.now() - t0;
      const w = wordRecall(row.boxes, texts);
      tallies[name].add(row.dataset, w.found, w.total, ms);
    }
    if ((i + 1) % 10 === 0) console.error(`  ${i + 1}/${rows.length} images`);
  }
} catch (e) {
  fail(e as Error);
} finally {
  for (const r of Object.values(runners)) await r.release();
  console.log = log;
}

const figures: Record<string, RunnerFigures> = Object.fromEntries(Object.entries(tallies).map(([n, t]) => [n, t.figures()]));
console.log(`\n${rows.length} images from ${setDir}\n`);
console.log(markdownTable(figures));
const goal = meetsGoal(figures['tandem edge'], [figures['tesseract.js'], figures['@gutenye/ocr-node']]);
if (goal) {
  const bestName = Object.entries(figures).find(([, f]) => f === goal.best)![0];
  console.log(
    `\nGoal (edge vs best peer ${bestName}): accuracy ${goal.accuracy ? 'met' : 'NOT met'} (${figures['tandem edge'].word_recall.toFixed(3)} vs ${goal.best.word_recall.toFixed(3)}), ` +
      `half its time ${goal.speed ? 'met' : 'NOT met'} (p50 ${figures['tandem edge'].ms_p50.toFixed(0)} vs ${(goal.best.ms_p50 / 2).toFixed(0)} ms)`,
  );
}
if (args.out) {
  mkdirSync(dirname(resolve(args.out)), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify({ set: setDir, runners: figures }, null, 2)}\n`);
  console.log(`wrote ${args.out}`);
}
