/**
 * Measures the repository's variants against their fp32 models: file sizes, output differences and text on pages
 * not used for calibration, detector latency at 640×640 (onnxruntime-node, and onnxruntime-web WASM), and the
 * largest activation of each model (fp16 tops out at 65504). Writes bench/out/variants.{json,md}.
 *
 *   npx tsx models/variants/measure.ts [--runs 10] [--no-web]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest, ManifestModel } from '../../core/models/manifest';
import { cropQuad, ctcGreedyDecode, detTensor, lineBatchTensor, parseDictionary } from '../../core/ocr';
import { recBatchWidth } from '../../core/ocr/preprocess';
import { renderTextImage } from '../../test-support/text-image';
import { REPOSITORY_DIR } from '../build/build-repository';
import { SOURCES } from '../build/sources';
import { decodeModel } from './onnx-graph';
import { foldBatchNorm } from './fold-batchnorm';
import { activationRanges } from './activation-ranges';
import { calibrationFeeds, type Feed } from './calibration-set';
import { maskIoU, maxAbsDiff, openSession, runFirst } from './compare';

/** Pages the quantisers never saw. */
const HELD_OUT = [
  ['Meeting room B-204, floor 2', 'Wi-Fi: guest / pass 8841', 'Check-in from 15:00'],
  ['No parking 7am-9am Mon-Fri', 'Tow-away zone', 'Ticket fine CHF 120.-'],
  ['Serial no. XK-0042-7781', 'Made in Switzerland', 'Keep dry, max 40 C'],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

async function heldOutInputs() {
  const det: Feed[] = [];
  const rec: Feed[] = [];
  const cls: Feed[] = [];
  const truth: string[][] = [];
  const spec = (name: string) => SOURCES.find((s) => s.name === name)!.preprocess;
  for (const lines of HELD_OUT) {
    const img = await renderTextImage({ lines, width: 720, height: 360 });
    det.push(detTensor(img.rgba, spec('ppocr-det') as never, 640).tensor);
    const crops = img.placements.map((p) => {
      const pad = 0.15 * p.height;
      const [x0, y0, x1, y1] = [p.x - pad, p.y - pad, p.x + p.width + pad, p.y + p.height + pad];
      return cropQuad(img.rgba, [
        [x0, y0],
        [x1, y0],
        [x1, y1],
        [x0, y1],
      ]);
    });
    const recSpec = spec('ppocr-rec') as never;
    rec.push(lineBatchTensor(crops, recSpec, recBatchWidth(crops, recSpec, 320)));
    cls.push(lineBatchTensor(crops, spec('ppocr-cls') as never, 192));
    truth.push(lines);
  }
  return { det, rec, cls, truth };
}

interface Row {
  name: string;
  variant: string;
  role: string;
  bytes: number;
  ratio: number;
  maxAbsDiff: number;
  detail: string;
}

async function accuracy(manifest: Manifest, file: (m: ManifestModel) => string): Promise<Row[]> {
  const inputs = await heldOutInputs();
  const charset = ['', ...parseDictionary(readFileSync(join(REPOSITORY_DIR, 'ppocr-rec', '1', 'ppocr_keys_v1.txt'), 'utf8')), ' '];
  const decode = (out: { data: Float32Array; dims: number[] }) => {
    const [n, steps, classes] = out.dims;
    return Array.from({ length: n }, (_, i) => ctcGreedyDecode(out.data, steps, classes, charset, i * steps * classes).text);
  };
  const rows: Row[] = [];
  const reference: Record<string, { data: Float32Array; dims: number[] }[]> = {};
  for (const model of manifest.models) {
    const role = model.task === 'text-detection' ? 'det' : model.task === 'text-recognition' ? 'rec' : 'cls';
    const base = model.derivation?.from.name ?? model.name;
    const feeds = inputs[role];
    const session = await openSession(file(model));
    const outs = [];
    for (const f of feeds) outs.push(await runFirst(session, f));
    await session.release();
    if (!model.derivation) reference[model.name] = outs;
    const ref = reference[base];
    const fp32Bytes = manifest.models.find((m) => m.name === base)!.file.bytes;
    const diff = Math.max(...outs.map((o, i) => maxAbsDiff(ref[i].data, o.data)));
    let detail = '';
    if (role === 'det') detail = `text-mask IoU ${Math.min(...outs.map((o, i) => maskIoU(ref[i].data, o.data))).toFixed(4)} (worst page)`;
    if (role === 'rec') {
      const texts = outs.flatMap(decode);
      const refTexts = ref.flatMap(decode);
      const truth = inputs.truth.flat();
      const same = texts.filter((t, i) => t === refTexts[i]).length;
      const right = texts.filter((t, i) => norm(t) === norm(truth[i])).length;
      detail = `text = fp32 on ${same}/${texts.length} lines; right (spacing normalised) ${right}/${texts.length}`;
    }
    rows.push({ name: model.name, variant: model.variant, role, bytes: model.file.bytes, ratio: fp32Bytes / model.file.bytes, maxAbsDiff: diff, detail });
  }
  return rows;
}

async function detLatency(manifest: Manifest, file: (m: ManifestModel) => string, runs: number, web: boolean) {
  const page = await renderTextImage({ lines: ['Latency at 640 x 640', 'fp32 int8 fp16', 'The quick brown fox'], width: 640, height: 640 });
  const feed = detTensor(page.rgba, SOURCES[0].preprocess as never, 640).tensor;
  const dets = manifest.models.filter((m) => m.task === 'text-detection');
  const results: Record<string, Record<string, number>> = {};
  for (const threads of [1, 2]) {
    const sessions = await Promise.all(dets.map((m) => openSession(file(m), 'all', threads)));
    for (const s of sessions) for (let i = 0; i < 3; i++) await runFirst(s, feed);
    const times: number[][] = dets.map(() => []);
    // Round robin, so load from other processes falls on every variant alike.
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < sessions.length; k++) {
        const t0 = performance.now();
        await runFirst(sessions[k], feed);
        times[k].push(performance.now() - t0);
      }
    }
    dets.forEach((m, k) => {
      (results[m.name] ??= {})[`node ${threads}T`] = median(times[k]);
    });
    await Promise.all(sessions.map((s) => s.release()));
  }
  if (web) {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    for (const m of dets) {
      const s = await ort.InferenceSession.create(new Uint8Array(readFileSync(file(m))), { executionProviders: ['wasm'] });
      const x = { [s.inputNames[0]]: new ort.Tensor('float32', feed.data, feed.dims) };
      for (let i = 0; i < 3; i++) await s.run(x);
      const t: number[] = [];
      for (let r = 0; r < Math.max(3, Math.ceil(runs / 2)); r++) {
        const t0 = performance.now();
        await s.run(x);
        t.push(performance.now() - t0);
      }
      results[m.name]['web wasm 1T'] = median(t);
      await s.release();
    }
  }
  return results;
}

/** Largest |activation| of each fp32 model as the fp16 variants compute it (BatchNorm folded), on calibration inputs. */
async function fp16Headroom(manifest: Manifest, file: (m: ManifestModel) => string) {
  const out: Record<string, { tensor: string; maxAbs: number }> = {};
  for (const m of manifest.models.filter((x) => !x.derivation)) {
    const role = m.task === 'text-detection' ? 'det' : m.task === 'text-recognition' ? 'rec' : 'cls';
    const model = foldBatchNorm(decodeModel(readFileSync(file(m)))).model;
    const ranges = await activationRanges(model, (await calibrationFeeds(role)).slice(0, 1));
    let best = { tensor: '', maxAbs: 0 };
    for (const [t, r] of ranges) if (r.absPercentile > best.maxAbs) best = { tensor: t, maxAbs: r.absPercentile };
    out[m.name] = best;
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const runs = Number(args[args.indexOf('--runs') + 1] || 10);
  const manifest = JSON.parse(readFileSync(join(REPOSITORY_DIR, 'manifest.json'), 'utf8')) as Manifest;
  const file = (m: ManifestModel) => join(REPOSITORY_DIR, m.file.path);
  const rows = await accuracy(manifest, file);
  const latency = await detLatency(manifest, file, args.includes('--runs') ? runs : 10, !args.includes('--no-web'));
  const headroom = await fp16Headroom(manifest, file);
  const outDir = resolve(REPOSITORY_DIR, '..', '..', 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'variants.json'), JSON.stringify({ measuredAt: new Date().toISOString(), rows, latency, headroom }, null, 2) + '\n');
  const md = [
    '| model | variant | MB | × smaller | max abs diff vs fp32 | notes |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.variant} | ${(r.bytes / 1e6).toFixed(2)} | ${r.ratio.toFixed(2)} | ${r.maxAbsDiff.toPrecision(3)} | ${r.detail} |`),
    '',
    `Detector latency, 640×640 input, median ms:`,
    '',
    `| model | ${Object.keys(Object.values(latency)[0]).join(' | ')} |`,
    `|---|${Object.keys(Object.values(latency)[0])
      .map(() => '---')
      .join('|')}|`,
    ...Object.entries(latency).map(
      ([n, t]) =>
        `| ${n} | ${Object.values(t)
          .map((v) => v.toFixed(1))
          .join(' | ')} |`,
    ),
    '',
    'Largest |activation| (fp16 limit 65504):',
    '',
    ...Object.entries(headroom).map(([n, h]) => `- ${n}: ${h.maxAbs.toFixed(1)} at ${h.tensor}`),
  ].join('\n');
  writeFileSync(join(outDir, 'variants.md'), md + '\n');
  console.log(md);
}
