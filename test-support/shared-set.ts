/** Locates the shared OCR evaluation set (present on dev machines and CI, never shipped). */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Absolute path of ../shared/ocr-eval/dev, or null (with a visible notice) when it is not on this machine. */
export function sharedEvalDir(): string | null {
  const dir = resolve(REPO_ROOT, '..', 'shared', 'ocr-eval', 'dev');
  if (existsSync(resolve(dir, 'det.jsonl'))) return dir;
  console.warn(`skipped: ../shared not present (looked for ${dir}/det.jsonl)`);
  return null;
}
