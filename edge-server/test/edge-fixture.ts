/** A real edge (real models, real worker pool) with small limits and a throwaway web app folder, for tests. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type EdgeConfig } from '../config';
import { startEdge, type Edge } from '../edge';
import { MODEL_DIR } from './paths';

export const TEST_LIMITS = { maxBodyBytes: 2_000_000, maxImagePixels: 1_000_000 };
export const INDEX_HTML = '<!doctype html><title>Tandem test app</title><div id="app"></div>';

export interface TestEdge extends Edge {
  config: EdgeConfig;
  /** Stops the pool and removes the temporary web app folder. */
  dispose(): Promise<void>;
}

export async function startTestEdge(env: Record<string, string> = {}): Promise<TestEdge> {
  const staticDir = mkdtempSync(join(tmpdir(), 'tandem-edge-web-'));
  mkdirSync(join(staticDir, 'assets'));
  writeFileSync(join(staticDir, 'index.html'), INDEX_HTML);
  writeFileSync(join(staticDir, 'assets', 'app-1a2b3c.js'), 'console.log("app");\n');
  const config = parseConfig({
    // The base models only: variants in the repository would just lengthen startup.
    MODEL_DIR,
    STATIC_DIR: staticDir,
    MODELS: 'ppocr-det,ppocr-cls,ppocr-rec',
    POOL_WORKERS: '1',
    ORT_INTRA_OP_THREADS: '2',
    LOG_LEVEL: 'silent',
    MAX_BODY_BYTES: String(TEST_LIMITS.maxBodyBytes),
    MAX_IMAGE_PIXELS: String(TEST_LIMITS.maxImagePixels),
    ...env,
  });
  const edge = await startEdge(config);
  return {
    ...edge,
    config,
    async dispose() {
      await edge.close();
      rmSync(staticDir, { recursive: true, force: true });
    },
  };
}

/** Deterministic pseudo-random floats in [0, 1), so JSON and binary requests carry the same tensor. */
export function seededFloats(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}
