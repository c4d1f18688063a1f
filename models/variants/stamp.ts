/**
 * Fingerprints of what a variant's bytes depend on, so the repository builder rebuilds a variant only when its
 * inputs change. Reads files only: cheap enough to run on every `npm run models`.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

const sourcesIn = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f));

function hashFiles(files: string[], extra: string[] = []): string {
  const h = createHash('sha256');
  for (const f of files) h.update(f.slice(root.length)).update('\0').update(readFileSync(f)).update('\0');
  for (const e of extra) h.update(e).update('\0');
  return h.digest('hex');
}

function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
  } catch {
    /* package.json not exported: walk up from the entry point */
  }
  let dir = dirname(require.resolve(name));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pkg.name === name) return pkg.version;
    } catch {
      /* keep walking up */
    }
  }
  return 'unknown';
}

/** The variant tools' own code. */
export function variantCodeStamp(): string {
  return hashFiles(sourcesIn(here));
}

/**
 * What calibration inputs depend on: the page renderer, the product's preprocessing, the runtime that measures
 * activation ranges, and the font and canvas packages.
 */
export function calibrationStamp(): string {
  return hashFiles(
    [join(root, 'test-support', 'text-image.ts'), ...sourcesIn(join(root, 'core', 'ocr'))],
    ['onnxruntime-node', '@napi-rs/canvas', '@fontsource/dejavu-sans'].map((p) => `${p}@${packageVersion(p)}`),
  );
}
