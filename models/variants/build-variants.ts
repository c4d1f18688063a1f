/**
 * Writes every variant in VARIANTS into the repository and returns its manifest entries. A variant whose inputs
 * (base model bytes, variant code, and for calibrated ones the calibration inputs) are unchanged is reused from
 * the previous build, recorded in `<repository>/.variants.json`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { ManifestModel } from '../../core/models/manifest';
import { describeFile } from '../build/manifest-builder';
import { readOnnxIo } from '../build/onnx-io';
import { VARIANTS, type VariantSpec } from './variants';
import { calibrationStamp, variantCodeStamp } from './stamp';

interface CacheRecord {
  stamp: string;
  entry: ManifestModel;
}

const CACHE_FILE = '.variants.json';

export function variantEntry(
  base: ManifestModel,
  spec: Pick<VariantSpec, 'name' | 'variant'>,
  bytes: Uint8Array,
  derivation: Omit<NonNullable<ManifestModel['derivation']>, 'from'>,
  version = '1',
): ManifestModel {
  const io = readOnnxIo(bytes);
  return {
    ...base,
    name: spec.name,
    version,
    variant: spec.variant,
    file: describeFile(`${spec.name}/${version}/model.onnx`, bytes),
    // Assets (the recogniser's dictionary) are shared with the base model: same path, same hash.
    opset: io.opset,
    inputs: io.inputs,
    outputs: io.outputs,
    derivation: { from: { name: base.name, version: base.version, sha256: base.file.sha256 }, ...derivation },
  };
}

export interface VariantBuildLog {
  (line: string): void;
}

export async function buildVariants(outDir: string, bases: ManifestModel[], log: VariantBuildLog = () => {}): Promise<ManifestModel[]> {
  const cachePath = join(outDir, CACHE_FILE);
  const cache: Record<string, CacheRecord> = existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) : {};
  const code = variantCodeStamp();
  let calibration: string | undefined;
  const entries: ManifestModel[] = [];
  const next: Record<string, CacheRecord> = {};
  for (const spec of VARIANTS) {
    const base = bases.find((m) => m.name === spec.base);
    if (!base) throw new Error(`variant ${spec.name}: base model ${spec.base} is not in the repository`);
    if (spec.calibrated) calibration ??= calibrationStamp();
    const stamp = createHash('sha256')
      .update([code, spec.name, base.file.sha256, spec.calibrated ? calibration : ''].join('\0'))
      .digest('hex');
    const hit = cache[spec.name];
    if (hit && hit.stamp === stamp && isIntact(outDir, hit.entry)) {
      entries.push(hit.entry);
      next[spec.name] = hit;
      continue;
    }
    const t0 = performance.now();
    const { bytes, derivation } = await spec.build(readFileSync(join(outDir, base.file.path)), base);
    const entry = variantEntry(base, spec, bytes, derivation);
    rmSync(join(outDir, spec.name), { recursive: true, force: true });
    mkdirSync(dirname(join(outDir, entry.file.path)), { recursive: true });
    writeFileSync(join(outDir, entry.file.path), bytes);
    log(`  built ${spec.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    entries.push(entry);
    next[spec.name] = { stamp, entry };
  }
  writeFileSync(cachePath, JSON.stringify(next, null, 1) + '\n');
  return entries;
}

function isIntact(outDir: string, entry: ManifestModel): boolean {
  const path = join(outDir, entry.file.path);
  return existsSync(path) && statSync(path).size === entry.file.bytes;
}
