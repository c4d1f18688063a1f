/**
 * Brotli and gzip copies written beside static files at build time (`<file>.br`, `<file>.gz`), so the server picks
 * one by Accept-Encoding without compressing per request. Brotli at its best setting takes ~35 s for the 14 MB
 * onnxruntime WASM, so finished copies are kept in a content-addressed cache (node_modules/.cache) and a rebuild of
 * unchanged bytes only copies them.
 *
 *   npx tsx edge-server/http/precompress.ts <dir>...
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

export type Encoding = 'br' | 'gzip';

/** File extension of each encoding's copy. */
export const ENCODING_SUFFIX: Record<Encoding, string> = { br: '.br', gzip: '.gz' };

/** What is worth compressing: code, text and models (images and fonts already are). */
export const COMPRESSIBLE = new Set(['.wasm', '.js', '.mjs', '.css', '.html', '.json', '.webmanifest', '.svg', '.txt', '.map', '.onnx', '.ort']);

/** Below this a copy saves less than a packet. */
const MIN_BYTES = 1024;
/** A copy must save at least this share, or the original is served as is. */
const MIN_SAVING = 0.05;

const CACHE_DIR = resolve(fileURLToPath(import.meta.url), '../../node_modules/.cache/tandem-precompress');

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

async function compress(bytes: Buffer, encoding: Encoding): Promise<Buffer> {
  if (encoding === 'gzip') return gz(bytes, { level: 9 });
  return brotli(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}

export interface PrecompressStats {
  files: number;
  written: number;
  fromCache: number;
  bytes: number;
  brBytes: number;
}

/** Writes the compressed copies of one file, each only when it saves enough. */
async function precompressFile(path: string, stats: PrecompressStats): Promise<void> {
  const bytes = readFileSync(path);
  const hash = createHash('sha256').update(bytes).digest('hex');
  stats.files++;
  stats.bytes += bytes.length;
  for (const encoding of ['br', 'gzip'] as const) {
    const target = path + ENCODING_SUFFIX[encoding];
    const cached = join(CACHE_DIR, hash + ENCODING_SUFFIX[encoding]);
    let out: Buffer;
    if (existsSync(cached)) {
      out = readFileSync(cached);
      stats.fromCache++;
    } else {
      out = await compress(bytes, encoding);
      mkdirSync(CACHE_DIR, { recursive: true });
      // Renamed into place so a parallel build never reads half a file.
      const tmp = `${cached}.${process.pid}.tmp`;
      writeFileSync(tmp, out);
      renameSync(tmp, cached);
      stats.written++;
    }
    if (out.length > bytes.length * (1 - MIN_SAVING)) continue;
    if (encoding === 'br') stats.brBytes += out.length;
    // Copied every time: a copy is served only when it is not older than its file.
    copyFileSync(cached, target);
  }
}

function compressibleFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...compressibleFiles(path));
    else if (entry.isFile() && COMPRESSIBLE.has(extname(entry.name).toLowerCase()) && statSync(path).size >= MIN_BYTES) out.push(path);
  }
  return out;
}

/** Precompresses every compressible file under `dir`, two at a time (zlib works off the main thread). */
export async function precompressTree(dir: string): Promise<PrecompressStats> {
  const stats: PrecompressStats = { files: 0, written: 0, fromCache: 0, bytes: 0, brBytes: 0 };
  const files = compressibleFiles(dir).sort((a, b) => statSync(b).size - statSync(a).size);
  const queue = [...files];
  await Promise.all(
    [0, 1].map(async () => {
      for (let f = queue.shift(); f !== undefined; f = queue.shift()) await precompressFile(f, stats);
    }),
  );
  return stats;
}

/** The compressed copy to send for `path` under `acceptEncoding`, if one exists and is not older than the file. */
export function negotiatedCopy(path: string, acceptEncoding: string | undefined): { path: string; size: number; encoding: Encoding } | undefined {
  if (!acceptEncoding || !COMPRESSIBLE.has(extname(path).toLowerCase())) return undefined;
  const accepted = parseAcceptEncoding(acceptEncoding);
  let sourceMtime: number | undefined;
  for (const encoding of ['br', 'gzip'] as const) {
    if (!accepted.has(encoding)) continue;
    const copy = path + ENCODING_SUFFIX[encoding];
    let st;
    try {
      st = statSync(copy);
    } catch {
      continue;
    }
    sourceMtime ??= statSync(path).mtimeMs;
    // A copy older than its file belongs to an earlier build: never serve it.
    if (st.mtimeMs + 1 < sourceMtime) continue;
    return { path: copy, size: st.size, encoding };
  }
  return undefined;
}

/** Codings with a non-zero q (RFC 9110 §12.5.3); `*` admits those not named otherwise. */
export function parseAcceptEncoding(header: string): Set<Encoding> {
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const value = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    q.set(name === 'x-gzip' ? 'gzip' : name!, value === undefined ? 1 : Number(value.slice(2)) || 0);
  }
  const out = new Set<Encoding>();
  for (const encoding of ['br', 'gzip'] as const) if ((q.get(encoding) ?? q.get('*') ?? 0) > 0) out.add(encoding);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dirs = process.argv.slice(2);
  if (dirs.length === 0) {
    console.error('usage: tsx edge-server/http/precompress.ts <dir>...');
    process.exit(2);
  }
  for (const dir of dirs) {
    const s = await precompressTree(dir);
    console.log(
      `${dir}: ${s.files} files, ${(s.bytes / 1e6).toFixed(1)} MB → brotli ${(s.brBytes / 1e6).toFixed(1)} MB (${s.written} compressed, ${s.fromCache} from cache)`,
    );
  }
}
