import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedLinks, loadTraces, rttAt } from '../sim/traces';
import { figures, policyTable } from './report';
import type { ReplayRecord } from './session';
import { pickLinks, requestStream, selectPhotos, type ReplayImage } from './workload';

function traceDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'replay-traces-'));
  const rows = (kbps: number) => `t_ms,kbps\n${Array.from({ length: 120 }, (_, i) => `${i * 1000},${kbps}`).join('\n')}\n`;
  writeFileSync(join(dir, 'a__lte_drive__down.csv'), rows(4000));
  writeFileSync(join(dir, 'b__lte_walk__down.csv'), rows(3000));
  writeFileSync(join(dir, 'b__lte_walk__up.csv'), rows(1000));
  writeFileSync(join(dir, 'c__3g_bus__down.csv'), rows(800));
  writeFileSync(join(dir, 'd__wifi_home__down.csv'), rows(20000));
  return dir;
}

const image = (file: string, dataset: string): ReplayImage => ({
  file,
  path: file,
  dataset,
  labels: [],
  sim: { file, width: 100, height: 100, bytes: 1000, lines: 1 },
});

describe('replay workload', () => {
  it('takes one link per type in turn, a measured uplink first', () => {
    const links = pickLinks(loadTraces(traceDir(), { upFromDown: 0.5 }), 3, 1, 60_000);
    expect(links.map((l) => l.linkType)).toEqual(['lte', '3g', 'wifi']);
    expect(links[0].name).toBe('b__lte_walk');
    expect(links[0].upFrom).toBe('up');
  });

  it('leaves out links shorter than a session', () => {
    expect(pickLinks(loadTraces(traceDir(), { upFromDown: 0.5 }), 5, 1, 200_000)).toEqual([]);
  });

  it('gives every policy the same stream: seeded arrivals, both datasets, each budget once per round', () => {
    const images = [image('s1', 'scene'), image('s2', 'scene'), image('r1', 'receipt')];
    const a = requestStream('link', images, 9, 0.5, 7, [1000, 2000, 4000]);
    expect(requestStream('link', images, 9, 0.5, 7, [1000, 2000, 4000])).toEqual(a);
    expect(requestStream('link', images, 9, 0.5, 8, [1000, 2000, 4000])).not.toEqual(a);
    for (let k = 1; k < a.length; k++) expect(a[k].arrivalMs).toBeGreaterThan(a[k - 1].arrivalMs);
    for (let r = 0; r < 3; r++)
      expect(
        a
          .slice(3 * r, 3 * r + 3)
          .map((q) => q.budgetMs)
          .sort((x, y) => x - y),
      ).toEqual([1000, 2000, 4000]);
    const kinds = a.map((q) => q.image.dataset);
    for (let k = 1; k < kinds.length; k++) expect(kinds[k]).not.toBe(kinds[k - 1]);
  });

  it('reads named photos in the order given, and refuses a name the folder lacks', () => {
    const images = [image('images/icdar/img_6.jpg', 'icdar'), image('images/sroie/009.jpg', 'sroie'), image('images/icdar/img_11.jpg', 'icdar')];
    const picked = selectPhotos(images, 'img_11,009');
    expect(requestStream('link', picked, 4, 0.5, 1, [2000], true).map((q) => q.image.file)).toEqual([
      'images/icdar/img_11.jpg',
      'images/sroie/009.jpg',
      'images/icdar/img_11.jpg',
      'images/sroie/009.jpg',
    ]);
    expect(() => selectPhotos(images, 'img_6,img_99')).toThrow(/img_99/);
  });

  it('holds a fixed link at its rates and round trip', () => {
    const [wifi, poor] = fixedLinks('wifi:50000/20000/10, 3g:1000/250/200');
    expect(wifi).toMatchObject({ linkType: 'wifi', upFrom: 'up' });
    expect(wifi.down.rateAt(123_456)).toBe(50_000);
    expect(wifi.up.rateAt(7)).toBe(20_000);
    expect(rttAt(poor, 99_000)).toBe(200);
    // 250 kbit/s moves 31 250 bytes a second.
    expect(poor.up.transferMs(5_000, 31_250)).toBeCloseTo(1000, 6);
    expect(() => fixedLinks('modem:56/33/100')).toThrow(/type one of/);
    expect(() => fixedLinks('lte:12000/3000')).toThrow(/not a fixed link/);
  });
});

function record(over: Partial<ReplayRecord>): ReplayRecord {
  return {
    link: 'l',
    linkType: 'lte',
    uplink: 'measured',
    policy: 'tandem',
    budgetMs: 1000,
    k: 0,
    image: 'i',
    dataset: 'd',
    arrivalMs: 0,
    startMs: 0,
    queueMs: 0,
    traceMs: 0,
    planId: 'p',
    plan: 'p',
    reason: 'r',
    why: 'w',
    ranOn: 'edge',
    fellBack: null,
    retried: null,
    raceWon: null,
    awaitedBetter: false,
    predictedP50Ms: 800,
    predictedP95Ms: 900,
    predictedStages: [],
    predictedLines: null,
    predictedRecall: null,
    mostAccurate: null,
    measuredStages: {},
    totalMs: 1000,
    harnessMs: 1000,
    met: true,
    wordRecall: 1,
    wordsFound: 1,
    wordsTotal: 1,
    lines: 1,
    edgeMs: 100,
    upBytes: 0,
    downBytes: 0,
    failure: null,
    ...over,
  };
}

describe('replay figures', () => {
  it('counts a failure as a miss that reads nothing, and a late answer as read but not in budget', () => {
    const rs = [
      record({ totalMs: 500, met: true, wordRecall: 1 }),
      record({ totalMs: 2000, met: false, wordRecall: 0.5, predictedP95Ms: 900 }),
      record({ failure: { code: 'NoAnswer', message: '' }, met: false, wordRecall: 0, ranOn: 'none', predictedP50Ms: NaN, predictedP95Ms: NaN, edgeMs: 0 }),
    ];
    const f = figures(rs, 300);
    expect(f.requests).toBe(3);
    expect(f.attainment).toBeCloseTo(1 / 3);
    expect(f.accuracy).toBeCloseTo(0.5);
    expect(f.accuracy_in_budget).toBeCloseTo(1 / 3);
    expect(f.failures).toBe(1);
    // Errors of the two answers: |800 − 500| / 500 and |800 − 2000| / 2000.
    expect(f.prediction_error_median).toBeCloseTo(0.6);
    // Both answers were predicted to fit (p95 900 ≤ 1000); the second came later than its p95.
    expect(f.late_vs_p95).toBeCloseTo(0.5);
    expect(f.edge_cost_rel).toBeCloseTo(200 / 300);
  });

  it('tables policies by budget with edge cost relative to the edge policy', () => {
    const t = policyTable([record({ policy: 'edge', edgeMs: 400 }), record({ policy: 'tandem', edgeMs: 100 }), record({ policy: 'tandem', budgetMs: 2000 })]);
    expect(t.tandem['1000'].edge_cost_rel).toBeCloseTo(0.25);
    expect(t.edge['1000'].edge_cost_rel).toBeCloseTo(1);
    expect(t.tandem['2000'].edge_cost_rel).toBeNull();
  });
});
