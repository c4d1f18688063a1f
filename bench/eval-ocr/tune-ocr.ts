/**
 * Grid search of pipeline defaults on an evaluation set (edge runtime). Detection settings need a model run per
 * value; decoding settings (space threshold, drop score) are replayed from recorded recogniser steps, so they cost nothing.
 *   tsx bench/eval-ocr/tune-ocr.ts [--set DIR] [--dataset sroie] [--limit N] [--max-side 960,1280] [--unclip 1.5,2]
 *     [--thresh 0.3] [--box-thresh 0.6] [--space 1,0.3,0.2] [--drop 0.5] [--rec-min-width 48,320] [--rec-batch 6]
 *     [--out FILE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createOcrPipeline } from '../../core/ocr';
import { collapseSteps, type CtcSteps } from '../../core/ocr/ctc-decode';
import { recognizeSteps } from '../../core/ocr/recognition';
import { createOrtNodeOcr } from '../../test-support/ort-node-infer';
import { sharedEvalDir } from '../../test-support/shared-set';
import { decodeRgba, loadSet } from './dataset';
import { addCounts, detScores, matchDetections, percentile, wordRecall, type DetCounts } from './metrics';

const { values: a } = parseArgs({
  options: {
    set: { type: 'string' },
    dataset: { type: 'string' },
    limit: { type: 'string' },
    'max-side': { type: 'string', default: '960' },
    unclip: { type: 'string', default: '1.5' },
    thresh: { type: 'string', default: '0.3' },
    'box-thresh': { type: 'string', default: '0.6' },
    space: { type: 'string', default: '1,0.2,0.1,0.05' },
    drop: { type: 'string', default: '0.5' },
    'rec-min-width': { type: 'string', default: '48' },
    'rec-batch': { type: 'string', default: '6' },
    out: { type: 'string' },
  },
});
const list = (s: string) => s.split(',').map(Number);
const setDir = a.set ? resolve(a.set) : sharedEvalDir();
if (!setDir) process.exit(2);
const rows = loadSet(setDir)
  .det.filter((r) => !a.dataset || a.dataset.split(',').includes(r.dataset))
  .slice(0, a.limit ? Number(a.limit) : Infinity);
const images = await Promise.all(rows.map((r) => decodeRgba(readFileSync(join(setDir, r.image)))));

const results: Record<string, unknown>[] = [];
for (const recBatch of list(a['rec-batch']!))
  for (const recMinWidth of list(a['rec-min-width']!))
    for (const maxSide of list(a['max-side']!)) {
      for (const unclipRatio of list(a.unclip!)) {
        for (const thresh of list(a.thresh!)) {
          for (const boxThresh of list(a['box-thresh']!)) {
            const ocr = await createOrtNodeOcr({ overrides: { maxSide, recMinWidth, recBatch, db: { unclipRatio, thresh, boxThresh } } });
            const pipeline = createOcrPipeline(ocr.config, ocr.infer, () => performance.now());
            const recOpts = {
              spec: ocr.config.rec,
              charset: ocr.config.charset,
              batch: ocr.config.recBatch,
              minWidth: ocr.config.recMinWidth,
              ctc: { spaceIndex: ocr.config.charset.length - 1, spaceThresh: 1 },
            };
            const recorded: { boxes: [number, number][][]; steps: CtcSteps[] }[] = [];
            const cpu: number[] = [];
            for (const image of images) {
              const c0 = process.cpuUsage();
              const det = await pipeline.detect(image);
              const steps = await recognizeSteps(
                det.detections.map((d) => d.crop),
                ocr.infer,
                recOpts,
              );
              const used = process.cpuUsage(c0);
              cpu.push((used.user + used.system) / 1000);
              recorded.push({ boxes: det.detections.map((d) => d.box), steps });
            }
            await ocr.release();
            for (const spaceThresh of list(a.space!)) {
              for (const dropScore of list(a.drop!)) {
                const per: Record<string, { counts: DetCounts; found: number; total: number }> = {};
                rows.forEach((row, i) => {
                  const texts = recorded[i].steps.map((s) => collapseSteps(s, ocr.config.charset, { spaceIndex: ocr.config.charset.length - 1, spaceThresh }));
                  const keep = texts.map((t) => t.text.trim() !== '' && t.score >= dropScore);
                  const d = (per[row.dataset] ??= { counts: { gt: 0, gtMatched: 0, pred: 0, predMatched: 0 }, found: 0, total: 0 });
                  d.counts = addCounts(
                    d.counts,
                    matchDetections(
                      recorded[i].boxes.filter((_, j) => keep[j]),
                      row.boxes,
                    ),
                  );
                  const w = wordRecall(
                    row.boxes,
                    texts.filter((_, j) => keep[j]).map((t) => t.text),
                  );
                  d.found += w.found;
                  d.total += w.total;
                });
                const all = Object.values(per).reduce((s, d) => ({
                  found: s.found + d.found,
                  total: s.total + d.total,
                  counts: addCounts(s.counts, d.counts),
                }));
                const r = {
                  recBatch,
                  recMinWidth,
                  maxSide,
                  unclipRatio,
                  thresh,
                  boxThresh,
                  spaceThresh,
                  dropScore,
                  e2e: all.found / all.total,
                  det_hmean: detScores(all.counts).hmean,
                  cpu_p50: percentile(cpu, 0.5),
                  ...Object.fromEntries(
                    Object.entries(per).flatMap(([k, d]) => [
                      [`${k}_e2e`, d.found / d.total],
                      [`${k}_det`, detScores(d.counts).hmean],
                    ]),
                  ),
                };
                results.push(r);
                console.log(
                  Object.entries(r)
                    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v}`)
                    .join(' '),
                );
              }
            }
          }
        }
      }
    }
if (a.out) writeFileSync(resolve(a.out), JSON.stringify(results, null, 2) + '\n');
