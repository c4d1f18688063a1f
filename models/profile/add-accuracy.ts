/**
 * Adds accuracy rows to a profiles file without profiling again: each variant set (a detector with its own
 * variant's recogniser, what a device downloads and runs together) at the given detector sides, scored with the
 * profiler's own accuracy pass (accuracy.ts) on the same set. Timings and every other figure stay as they are.
 *
 *   npx tsx models/profile/add-accuracy.ts [--set DIR] [--profiles models/profiles.json] [--sides 960,800,640,480,320]
 *                                          [--variants int8-weights,fp16,int8]
 *
 * Rows are written after each one, so a run stopped early keeps what it measured. The recogniser's own word
 * accuracy and CER on the word crops are taken from the file's existing rows for it (the same figure).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseProfiles, type AccuracyEntry } from '../../core/profiles';
import { loadSet } from '../../bench/eval-ocr/dataset';
import { sharedEvalDir } from '../../test-support/shared-set';
import { loadManifest } from '../../test-support/ort-node-infer';
import { measureAccuracy } from './accuracy';
import { LADDER, REPOSITORY_DIR, SERVED_PROFILES, TRACKED_PROFILES } from './profile-constants';
import { baseModel, profiledModels } from './models';
import { NodeSessions } from './node-sessions';

const { values } = parseArgs({
  options: { set: { type: 'string' }, profiles: { type: 'string', default: 'models/profiles.json' }, sides: { type: 'string' }, variants: { type: 'string' } },
});
const file = values.profiles!;
const setDir = values.set ? resolve(values.set) : sharedEvalDir();
if (setDir === null) throw new Error('no set: ../shared/ocr-eval/dev is not on this machine; pass --set DIR');
const sides = values.sides ? values.sides.split(',').map(Number) : [...LADDER].sort((a, b) => b - a);
const manifest = loadManifest(REPOSITORY_DIR);
const models = profiledModels(manifest);
const cls = baseModel(models, 'cls');
const variants = values.variants
  ? values.variants.split(',')
  : [...new Set(models.map((m) => m.variant))].filter((v) => v !== baseModel(models, 'det').variant);
const set = loadSet(setDir);
const started = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const sessions = new NodeSessions(REPOSITORY_DIR, manifest, 2);
const added: string[] = [];
log(
  `${set.det.length} images of ${setDir}; sides ${sides.join('/')}; sets ${variants.join(', ')}; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

for (const side of sides) {
  for (const variant of variants) {
    const det = models.find((m) => m.role === 'det' && m.variant === variant);
    const rec = models.find((m) => m.role === 'rec' && m.variant === variant);
    if (!det || !rec) continue;
    // No word crops: the recogniser alone was scored on them already (its rows elsewhere in the file).
    const result = await measureAccuracy(sessions, { dets: [det], recs: [rec], cls, sides: [side], defaultSide: side, cross: false }, setDir, set.det, [], log);
    const profiles = parseProfiles(readFileSync(file, 'utf8'));
    const alone = profiles.accuracy.find((a) => a.rec === rec.id && a.recWordAcc !== undefined);
    const rows: AccuracyEntry[] = result.entries.map((e) => ({ ...e, recWordAcc: alone?.recWordAcc, cer: alone?.cer }));
    const same = (a: AccuracyEntry, b: AccuracyEntry) => a.det === b.det && a.rec === b.rec && a.maxSide === b.maxSide;
    profiles.accuracy = [...profiles.accuracy.filter((a) => !rows.some((r) => same(a, r))), ...rows];
    added.push(`${variant}@${side}`);
    // One sentence says which sets were added (all of them, from every run), in place of the one before it, leaving
    // what other steps wrote after it.
    const sets = new Map<string, number[]>();
    for (const a of profiles.accuracy) {
      const v = a.det.split('@')[1];
      if (v !== undefined && v !== baseModel(models, 'det').variant && a.rec.split('@')[1] === v) sets.set(v, [...(sets.get(v) ?? []), a.maxSide]);
    }
    const listed = [...sets].map(([v, s]) => `${v} at ${s.sort((x, y) => y - x).join(', ')}`).join('; ');
    const note = ` Accuracy of the variant sets (each detector with its own variant's recogniser) added on ${new Date().toISOString().slice(0, 10)} on the same dev set by npx tsx models/profile/add-accuracy.ts: ${listed}.`;
    const previous = / Accuracy of the variant sets \(each detector with its own variant's recogniser[^]*?add-accuracy\.ts[^.]*\./;
    const described = profiles.source.description;
    profiles.source.description = previous.test(described) ? described.replace(previous, note) : described + note;
    const text = `${JSON.stringify(parseProfiles(JSON.stringify(profiles)), null, 1)}\n`;
    writeFileSync(file, text);
    if (resolve(file) === TRACKED_PROFILES) writeFileSync(SERVED_PROFILES, text);
  }
}
await sessions.release();
log('done');
