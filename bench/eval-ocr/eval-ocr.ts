/**
 * OCR accuracy and speed over an evaluation set, per placement.
 *   npm run eval:ocr -- --set DIR [--path device|edge|both] [--server URL] [--limit N] [--out FILE] [--variant int8-weights|int8|fp16|fp32] [--rec NAME]
 *     [--dataset icdar2015,sroie,iiit5k] [--max-side N] [--cls|--no-cls] [--threads N] [--box-thresh X] [--thresh X] [--unclip X] [--drop-score X]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, sharedEvalDir } from '../../test-support/shared-set';
import type { ConfigOverrides, RunOptions } from '../../core/ocr';
import { loadSet } from './dataset';
import { evaluate, type PathScores } from './evaluate';
import { createRunner, type PathName } from './runners';
import { formatTable } from './report';
import type { Manifest } from '../../core/models/manifest';
import { DEVICE_VARIANTS, isDeviceVariant, pickModels } from '../../web/worker/model-choice';

const { values: a } = parseArgs({
  options: {
    set: { type: 'string' },
    path: { type: 'string', default: 'both' },
    server: { type: 'string' },
    limit: { type: 'string' },
    dataset: { type: 'string' },
    out: { type: 'string' },
    'max-side': { type: 'string' },
    'no-cls': { type: 'boolean', default: false },
    cls: { type: 'boolean', default: false },
    threads: { type: 'string' },
    'box-thresh': { type: 'string' },
    thresh: { type: 'string' },
    unclip: { type: 'string' },
    'drop-score': { type: 'string' },
    'rec-min-width': { type: 'string' },
    'skip-rec': { type: 'boolean', default: false },
    'skip-det': { type: 'boolean', default: false },
    /** Every model of this variant (detector, classifier, recogniser), as a phone loads them; default the fp32 ones. */
    variant: { type: 'string' },
    /**
     * The recogniser by manifest name, after --variant; `ppocr-rec-compact` reads the batches as split recognition
     * sends them (8-bit YCbCr 4:2:0, core/ocr/compact-crops) on the edge path.
     */
    rec: { type: 'string' },
  },
});

function fail(msg: string): never {
  console.error(`eval-ocr: ${msg}`);
  process.exit(2);
}
const num = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) fail(`--${name} expects a number, got "${v}"`);
  return n;
};

const setDir = a.set ? resolve(a.set) : (sharedEvalDir() ?? fail('no --set given and ../shared/ocr-eval/dev is not present'));
if (!['device', 'edge', 'both'].includes(a.path!)) fail(`--path must be device, edge or both (got "${a.path}")`);
const paths: PathName[] = a.path === 'both' ? ['device', 'edge'] : [a.path as PathName];
const limit = num('limit', a.limit) ?? Infinity;

const run: RunOptions = {};
const maxSide = num('max-side', a['max-side']);
if (maxSide) run.maxSide = maxSide;
if (a['no-cls']) run.useCls = false;
if (a.cls) run.useCls = true;
const overrides: ConfigOverrides = { db: {} };
const db = overrides.db!;
if (a['box-thresh']) db.boxThresh = num('box-thresh', a['box-thresh']);
if (a.thresh) db.thresh = num('thresh', a.thresh);
if (a.unclip) db.unclipRatio = num('unclip', a.unclip);
if (a['drop-score']) overrides.dropScore = num('drop-score', a['drop-score']);
if (a['rec-min-width']) overrides.recMinWidth = num('rec-min-width', a['rec-min-width']);
if (a.variant) {
  if (!isDeviceVariant(a.variant)) fail(`--variant must be one of ${DEVICE_VARIANTS.join(', ')} (got "${a.variant}")`);
  const manifest = JSON.parse(readFileSync(resolve(REPO_ROOT, 'models/repository/manifest.json'), 'utf8')) as Manifest;
  const picked = pickModels(manifest, a.variant);
  overrides.models = { det: picked.det.name, cls: picked.cls.name, rec: picked.rec.name };
}

if (a.rec) {
  if (a.path !== 'edge' || a.server) fail('--rec runs on the in-process edge path only (--path edge, no --server)');
  overrides.models = { ...overrides.models, rec: a.rec };
}

const set = loadSet(setDir);
const only = (r: { dataset: string }) => !a.dataset || a.dataset.split(',').includes(r.dataset);
const det = a['skip-det'] ? [] : set.det.filter(only).slice(0, limit);
const rec = a['skip-rec'] ? [] : set.rec.filter(only).slice(0, limit);
console.log(`set ${setDir}: ${det.length} images, ${rec.length} word crops; options ${JSON.stringify({ ...run, ...overrides })}`);

const results: Partial<Record<PathName, PathScores>> = {};
for (const name of paths) {
  // One placement at a time: the machine has two cores and both runtimes want them.
  const runner = await createRunner(name, { run, overrides, server: name === 'edge' ? a.server : undefined, threads: num('threads', a.threads) });
  console.log(`${name}: ${runner.describe}`);
  try {
    results[name] = await evaluate(runner, setDir, det, rec, (s) => console.log(s));
  } finally {
    await runner.release();
  }
}

console.log('\n' + formatTable(results));
for (const [name, r] of Object.entries(results)) {
  if (r && Object.keys(r.stage_ms_p50).length)
    console.log(
      `${name} stage p50 (ms): ${Object.entries(r.stage_ms_p50)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
}
if (results.device?.rec_word_acc != null && results.edge?.rec_word_acc != null) {
  console.log(`\nrecognition accuracy device − edge: ${((results.device.rec_word_acc - results.edge.rec_word_acc) * 100).toFixed(2)} points`);
}
if (a.out) {
  const out = resolve(a.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ set: setDir, options: { ...run, ...overrides }, ...results }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}
