import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compactCropBytes } from '../../core/ocr/compact-crops';
import { profiledLineWidth } from '../../core/placement/rec-width';
import { parseProfiles, type LatencyStats, type Profiles } from '../../core/profiles';
import { loadManifest } from '../../test-support/ort-node-infer';
import { installProfiles } from '../build/build-repository';
import { REPO_ROOT } from '../../test-support/shared-set';
import { BROWSER_THREADS, DEFAULT_SIDE, LADDER, NODE_THREADS, THROTTLES, TRACKED_PROFILES, deviceRuntimeId, edgeRuntimeId } from './profile-constants';
import { ladderShapes, detPixels } from './latency-plan';
import { familyOf, profiledModels } from './models';
import { fitLine, firstRunExtra, latencyStats, meanSd, percentile, share } from './stats';
import { END, START, accuracyDrops, renderTables, replaceSection } from './table';

const profiles: Profiles = parseProfiles(readFileSync(TRACKED_PROFILES, 'utf8'));
const manifest = loadManifest();

function sane(s: LatencyStats, where: string, min = 0): void {
  expect(s.n, where).toBeGreaterThan(0);
  expect(s.p50, where).toBeGreaterThanOrEqual(min);
  expect(s.p50, where).toBeLessThanOrEqual(s.p90);
  expect(s.p90, where).toBeLessThan(60_000);
  if (s.samples) expect(s.samples.length, where).toBe(s.n);
}

describe('models/profiles.json', () => {
  it('is measured, with machine and load average', () => {
    expect(profiles.source.kind).toBe('measured');
    expect(profiles.source.machine).toBeTruthy();
    expect(profiles.source.loadAverage?.start).toHaveLength(3);
  });

  it('lists every manifest model with its file size', () => {
    expect(profiles.models.map((m) => m.name).sort()).toEqual(manifest.models.map((m) => m.name).sort());
    for (const m of manifest.models) {
      expect(profiles.models.find((p) => p.name === m.name)?.weightBytes, m.name).toBe(m.file.bytes);
    }
  });

  it('has weight-only int8 detector and recogniser at least 3.5x smaller than fp32', () => {
    for (const role of ['det', 'rec'] as const) {
      const fp32 = profiles.models.find((m) => m.role === role && m.variant === 'fp32')!;
      const int8w = profiles.models.find((m) => m.role === role && m.variant === 'int8-weights')!;
      expect(fp32.weightBytes / int8w.weightBytes, role).toBeGreaterThanOrEqual(3.5);
    }
  });

  it('has every runtime at every thread count and throttle, seeded by defaults', () => {
    const ids = profiles.runtimes.map((r) => r.id);
    for (const t of NODE_THREADS) expect(ids).toContain(edgeRuntimeId(t));
    for (const t of BROWSER_THREADS) for (const c of THROTTLES) expect(ids).toContain(deviceRuntimeId(t, c));
    for (const r of profiles.runtimes.filter((x) => x.location === 'device')) {
      expect(r.initMs, r.id).toBeDefined();
      sane(r.initMs!, `${r.id} init`, 0.01);
    }
    expect(ids).toContain(profiles.defaults.deviceRuntime);
    expect(ids).toContain(profiles.defaults.edgeRuntime);
  });

  it('times every model on every runtime at every ladder size, with creation and cold-run cost', () => {
    // The compact recogniser runs on the edge only and is timed by models/profile/compact.ts (runs and creation).
    const edgeOnly = (m: { variant: string }) => m.variant === 'compact';
    for (const r of profiles.runtimes) {
      for (const m of profiles.models.filter(edgeOnly)) {
        const stage = r.stages.find((s) => s.stage === m.role && s.model === m.id);
        if (r.location === 'device') {
          expect(stage, `${r.id} ${m.id}`).toBeUndefined();
          continue;
        }
        expect(
          stage!.points.map((p) => p.x),
          `${r.id} ${m.id}`,
        ).toEqual([1, 6]);
        for (const p of stage!.points) sane(p.stats, `${r.id} ${m.id} x=${p.x}`, 0.01);
        expect(
          r.stages.find((x) => x.stage === 'create' && x.model === m.id),
          `${r.id} create ${m.id}`,
        ).toBeDefined();
      }
      for (const m of profiles.models.filter((x) => !edgeOnly(x))) {
        const stage = r.stages.find((s) => s.stage === m.role && s.model === m.id);
        expect(stage, `${r.id} ${m.id}`).toBeDefined();
        expect(stage!.points.length, `${r.id} ${m.id}`).toBeGreaterThanOrEqual(m.role === 'det' ? LADDER.length : 2);
        for (const p of stage!.points) sane(p.stats, `${r.id} ${m.id} x=${p.x}`, 0.01);
        for (const once of ['create', 'first-run-extra'] as const) {
          const s = r.stages.find((x) => x.stage === once && x.model === m.id);
          expect(s, `${r.id} ${once} ${m.id}`).toBeDefined();
          sane(s!.points[0].stats, `${r.id} ${once} ${m.id}`);
        }
      }
      for (const stage of ['decode', 'det-preprocess', 'postprocess', ...(r.location === 'device' ? ['reencode'] : [])]) {
        const s = r.stages.find((x) => x.stage === stage && x.model === undefined);
        expect(s, `${r.id} ${stage}`).toBeDefined();
        for (const p of s!.points) sane(p.stats, `${r.id} ${stage}`);
      }
    }
  });

  it('scores every detector configuration and every recogniser', () => {
    const d = profiles.defaults;
    for (const det of profiles.models.filter((m) => m.role === 'det')) {
      for (const side of LADDER)
        expect(
          profiles.accuracy.find((a) => a.det === det.id && a.maxSide === side && a.rec === d.rec),
          `${det.id}@${side}`,
        ).toBeDefined();
    }
    // The compact recogniser's recall is scored on its own 8-bit crops (npm run eval:ocr -- --rec ppocr-rec-compact).
    expect(profiles.transfer.compactCropBytesPerLine).toBe(compactCropBytes(1, 48, profiledLineWidth(profiles)));
    for (const rec of profiles.models.filter((m) => m.role === 'rec' && m.variant !== 'compact')) {
      expect(
        profiles.accuracy.find((a) => a.det === d.det && a.maxSide === DEFAULT_SIDE && a.rec === rec.id),
        rec.id,
      ).toBeDefined();
    }
    for (const a of profiles.accuracy) {
      for (const v of [a.wordRecall, a.detHmean, a.recWordAcc, a.cer]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(a.n).toBeGreaterThan(0);
    }
  });

  it('measures uploads, split cuts, replies and lines per image', () => {
    expect(profiles.reencode.length).toBeGreaterThan(0);
    for (const r of profiles.reencode) {
      expect(r.bitsPerPixel).toBeGreaterThan(0);
      expect(r.recallFactor).toBeGreaterThan(0);
    }
    const points = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'variants', 'det-split-points.json'), 'utf8')).points as { name: string }[];
    expect(profiles.splits.map((s) => s.id)).toEqual(points.map((p) => `det-${p.name}`));
    expect(profiles.transfer.responseBytes.perLine).toBeGreaterThan(0);
    expect(profiles.content.linesPerImage.mean).toBeGreaterThan(0);
  });

  it('is installed beside the manifest by npm run models', () => {
    const served = join(REPO_ROOT, 'models', 'repository', 'profiles.json');
    if (!existsSync(served)) return void console.warn('skipped: models/repository/profiles.json absent (run npm run models)');
    expect(readFileSync(served, 'utf8')).toBe(readFileSync(TRACKED_PROFILES, 'utf8'));
  });
});

describe('profiler pieces', () => {
  it('summarises samples with nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 0.9)).toBe(5);
    const s = latencyStats([10, 12, 11, 30, 13]);
    expect(s).toMatchObject({ n: 5, p50: 12, p90: 30, mean: 15.2 });
    expect(s.samples).toEqual([10, 12, 11, 30, 13]);
    expect(() => latencyStats([])).toThrow();
    expect(() => latencyStats([1, Number.NaN])).toThrow();
  });

  it('fits base + per unit, never negative', () => {
    expect(
      fitLine([
        { x: 0, y: 100 },
        { x: 10, y: 300 },
        { x: 5, y: 200 },
      ]),
    ).toEqual({ base: 100, perUnit: 20 });
    expect(
      fitLine([
        { x: 1, y: 50 },
        { x: 2, y: 40 },
      ]),
    ).toEqual({ base: 45, perUnit: 0 });
    expect(meanSd([2, 4, 6])).toEqual({ mean: 4, sd: 2 });
    expect(share(30, 120)).toBe(0.25);
    expect(share(150, 120)).toBe(1);
    expect(firstRunExtra(500, latencyStats([100, 100, 100]))).toBe(400);
    expect(firstRunExtra(50, latencyStats([100]))).toBe(0);
  });

  it('derives detector shapes and model ids the planner expects', () => {
    const shapes = ladderShapes(1280, 720, [320, 960]);
    expect(shapes).toEqual([
      { side: 320, width: 320, height: 192 },
      { side: 960, width: 960, height: 544 },
    ]);
    expect(detPixels(shapes[1])).toBe(960 * 544);
    const ids = profiledModels(manifest).map((m) => m.id);
    expect(ids).toContain('ppocr-det@fp32');
    expect(ids).toContain('ppocr-det@int8-weights');
    const variant = manifest.models.find((m) => m.variant === 'int8')!;
    expect(familyOf(variant)).toBe(variant.derivation!.from.name);
  });

  it('installs the tracked profiles into a repository only when they differ', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-install-profiles-'));
    try {
      const source = join(dir, 'profiles.json');
      const out = join(dir, 'repository');
      expect(installProfiles(out, join(dir, 'none.json'))).toBe(false);
      writeFileSync(source, '{"schema":1}');
      expect(installProfiles(out, source)).toBe(true);
      expect(readFileSync(join(out, 'profiles.json'), 'utf8')).toBe('{"schema":1}');
      expect(installProfiles(out, source)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders the README section between its markers only', () => {
    const body = renderTables(profiles);
    expect(body).toContain('ppocr-det@int8');
    const once = replaceSection(`# t\n\nintro\n\n${START}\nold\n${END}\n\nafter\n`, body);
    expect(once).toContain('intro');
    expect(once).toContain('after');
    expect(once).not.toContain('\nold\n');
    expect(replaceSection(once, body)).toBe(once);
    expect(accuracyDrops(profiles).length).toBeGreaterThan(0);
  });
});
