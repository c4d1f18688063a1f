/**
 * Profiles the compact recogniser (models/variants/compact-rec.ts) into an existing profiles file, without
 * re-running the whole profile: its model entry, its upload per profiled line as 8-bit YCbCr 4:2:0 crops
 * (`transfer.compactCropBytesPerLine`), and its timings on the edge runtimes, measured round-robin against the
 * fp32 recogniser at the same batches so the two see the same load. Only the edge runs it (split recognition sends it
 * the phone's crops), so device runtimes are not timed. `npm run profile` calls this after its own runs.
 *
 *   npx tsx models/profile/compact.ts [--in FILE] [--out FILE]   (default: models/profiles.json → it and the repository's copy)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { Manifest } from '../../core/models/manifest';
import { compactCropBytes, takesCompactCrops } from '../../core/ocr/compact-crops';
import { parseProfiles, type LatencyPoint, type Profiles } from '../../core/profiles';
import { profiledLineWidth } from '../../core/placement/rec-width';
import { loadManifest, REPOSITORY_DIR } from '../../test-support/ort-node-infer';
import { pseudoRandom } from '../variants/tiny-graphs';
import { profiledId } from './models';
import { latencyStats } from './stats';

export interface CompactProfileOptions {
  lines?: number[];
  warmup?: number;
  reps?: number;
  log?: (line: string) => void;
}

const seededBytes = (n: number, seed: number) => Uint8Array.from(pseudoRandom(n, seed), (v) => Math.floor((v + 1) * 127.5));

/** `profiles` with the manifest's compact recognisers added (a copy); the fp32 recogniser of their family must be profiled. */
export async function profileCompact(profiles: Profiles, manifest: Manifest, repositoryDir: string, opts: CompactProfileOptions = {}): Promise<Profiles> {
  const log = opts.log ?? (() => {});
  const compact = manifest.models.filter((m) => m.task === 'text-recognition' && takesCompactCrops(m));
  if (compact.length === 0) return profiles;
  const out: Profiles = structuredClone(profiles);
  const lineHeight = 48;
  const width = profiledLineWidth(profiles);
  const lines = opts.lines ?? [1, 6];
  const warmup = opts.warmup ?? 2;
  const reps = opts.reps ?? 7;
  const loadStart = loadavg();
  const notes: string[] = [];
  for (const m of compact) {
    const id = profiledId(m);
    const baseName = m.derivation?.from.name ?? 'ppocr-rec';
    const base = manifest.models.find((b) => b.name === baseName)!;
    const baseId = profiledId(base);
    out.models = [...out.models.filter((x) => x.id !== id), { id, name: m.name, variant: m.variant, role: 'rec', weightBytes: m.file.bytes }];
    out.transfer.compactCropBytesPerLine = compactCropBytes(1, lineHeight, width);
    const ratios: string[] = [];
    for (const runtime of out.runtimes.filter((r) => r.location === 'edge' && r.backend === 'ort-node')) {
      const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: runtime.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
      const t0 = performance.now();
      const s = await ort.InferenceSession.create(resolve(repositoryDir, m.file.path), options);
      const createMs = performance.now() - t0;
      const f = await ort.InferenceSession.create(resolve(repositoryDir, base.file.path), options);
      const points: LatencyPoint[] = [];
      const basePoints: LatencyPoint[] = [];
      for (const n of lines) {
        const w = width + (width & 1);
        const feeds = {
          [s.inputNames[0]]: new ort.Tensor('uint8', seededBytes(n * lineHeight * w, 3), [n, 1, lineHeight, w]),
          [s.inputNames[1]]: new ort.Tensor('uint8', seededBytes((n * lineHeight * w) / 2, 5), [n, 2, lineHeight / 2, w / 2]),
        };
        const floats = { [f.inputNames[0]]: new ort.Tensor('float32', pseudoRandom(n * 3 * lineHeight * width, 7), [n, 3, lineHeight, width]) };
        for (let i = 0; i < warmup; i++) {
          await s.run(feeds);
          await f.run(floats);
        }
        const a: number[] = [];
        const b: number[] = [];
        for (let i = 0; i < reps; i++) {
          let t = performance.now();
          await s.run(feeds);
          a.push(performance.now() - t);
          t = performance.now();
          await f.run(floats);
          b.push(performance.now() - t);
        }
        points.push({ x: n, stats: latencyStats(a) });
        basePoints.push({ x: n, stats: latencyStats(b) });
      }
      await s.release();
      await f.release();
      runtime.stages = runtime.stages.filter((st) => st.model !== id);
      runtime.stages.push({ stage: 'rec', model: id, unit: 'lines', points });
      runtime.stages.push({ stage: 'create', model: id, unit: 'once', points: [{ x: 1, stats: latencyStats([createMs]) }] });
      const ratio = points.map((p, i) => `${p.x}: ${(p.stats.p50 / basePoints[i].stats.p50).toFixed(2)}`).join(', ');
      ratios.push(`${runtime.id} ${ratio}`);
      log(
        `  ${id} on ${runtime.id}: ${points.map((p) => `${p.x}→${p.stats.p50.toFixed(1)}`).join(' ')} ms (${baseId}: ${basePoints.map((p) => `${p.x}→${p.stats.p50.toFixed(1)}`).join(' ')})`,
      );
    }
    notes.push(
      `${id} added by models/profile/compact.ts on ${new Date().toISOString().slice(0, 10)}: upload ${out.transfer.compactCropBytesPerLine} B per ${width}-pixel line ` +
        `(8-bit YCbCr 4:2:0, computed), edge timings (median of ${reps} runs after ${warmup} warm-ups, alternating with ${baseId} at the same batches; ` +
        `median ratio to it per lines: ${ratios.join('; ')}; load average ${loadStart.map((l) => l.toFixed(2)).join('/')} at start, ` +
        `${loadavg()
          .map((l) => l.toFixed(2))
          .join('/')} at end); not timed on the device, which never runs it.`,
    );
  }
  const previous = out.source.description.replace(/ ?\S+@compact added by models\/profile\/compact\.ts [^]*?never runs it\./g, '');
  out.source = { ...out.source, description: `${previous} ${notes.join(' ')}` };
  return parseProfiles(JSON.stringify(out));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { in: { type: 'string' }, out: { type: 'string' } } });
  const tracked = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'profiles.json');
  const input = values.in ? resolve(values.in) : tracked;
  const profiles = parseProfiles(readFileSync(input, 'utf8'));
  const result = await profileCompact(profiles, loadManifest(REPOSITORY_DIR), REPOSITORY_DIR, { log: (l) => console.log(l) });
  const text = JSON.stringify(result, null, 1) + '\n';
  for (const t of values.out ? [resolve(values.out)] : [tracked, resolve(REPOSITORY_DIR, 'profiles.json')]) {
    mkdirSync(dirname(t), { recursive: true });
    writeFileSync(t, text);
    console.log(`wrote ${t}`);
  }
}
