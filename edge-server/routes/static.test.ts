import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDeps } from '../app';
import { parseAcceptEncoding, precompressTree } from '../http/precompress';
import { webAppRoutes } from './static';

let dir: string;
let app: ReturnType<typeof webAppRoutes>;
let js: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-static-'));
  mkdirSync(join(dir, 'assets'));
  // Text that compresses, as bundles do.
  js = Buffer.from(Array.from({ length: 400 }, (_, i) => `export const value${i} = ${i} * 2; // line ${i}\n`).join(''));
  writeFileSync(join(dir, 'assets', 'app-1.js'), js);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'icon.png'), Buffer.alloc(4096, 7));
  await precompressTree(dir);
  app = webAppRoutes({ config: { staticDir: dir } } as AppDeps);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const get = (path: string, headers: Record<string, string> = {}) => app.request(path, { headers });

describe('precompressed static files', () => {
  it('writes Brotli and gzip copies of compressible files only', async () => {
    expect(brotliDecompressSync(readFileSync(join(dir, 'assets', 'app-1.js.br'))).equals(js)).toBe(true);
    expect(gunzipSync(readFileSync(join(dir, 'assets', 'app-1.js.gz'))).equals(js)).toBe(true);
    expect(() => readFileSync(join(dir, 'icon.png.br'))).toThrow();
    // Too small to be worth a copy.
    expect(() => readFileSync(join(dir, 'index.html.br'))).toThrow();
  });

  it('sends Brotli, else gzip, else the file, each with its own ETag and Vary', async () => {
    const br = await get('/assets/app-1.js', { 'accept-encoding': 'gzip, deflate, br, zstd' });
    const gz = await get('/assets/app-1.js', { 'accept-encoding': 'gzip, deflate' });
    const plain = await get('/assets/app-1.js');
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(plain.headers.get('content-encoding')).toBeNull();
    for (const r of [br, gz, plain]) expect(r.headers.get('vary')).toBe('Accept-Encoding');
    const brBody = Buffer.from(await br.arrayBuffer());
    expect(Number(br.headers.get('content-length'))).toBe(brBody.length);
    expect(brBody.length).toBeLessThan(js.length / 3);
    expect(brotliDecompressSync(brBody).equals(js)).toBe(true);
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).equals(js)).toBe(true);
    expect(Buffer.from(await plain.arrayBuffer()).equals(js)).toBe(true);
    const tags = [br, gz, plain].map((r) => r.headers.get('etag'));
    expect(new Set(tags).size).toBe(3);
    expect(tags[0]).toMatch(/-br"$/);
    expect(tags[1]).toMatch(/-gzip"$/);
  });

  it('answers 304 only to the ETag of the encoding it would send', async () => {
    const br = await get('/assets/app-1.js', { 'accept-encoding': 'br' });
    const tag = br.headers.get('etag')!;
    expect((await get('/assets/app-1.js', { 'accept-encoding': 'br', 'if-none-match': tag })).status).toBe(304);
    const other = await get('/assets/app-1.js', { 'accept-encoding': 'gzip', 'if-none-match': tag });
    expect(other.status).toBe(200);
    expect(other.headers.get('content-encoding')).toBe('gzip');
  });

  it('never serves a copy older than its file', async () => {
    const path = join(dir, 'assets', 'app-1.js');
    const later = new Date(Date.now() + 60_000);
    utimesSync(path, later, later);
    const r = await get('/assets/app-1.js', { 'accept-encoding': 'br, gzip' });
    expect(r.headers.get('content-encoding')).toBeNull();
    expect(Buffer.from(await r.arrayBuffer()).equals(js)).toBe(true);
  });

  it('reads Accept-Encoding with q-values and wildcards', () => {
    expect([...parseAcceptEncoding('gzip;q=1.0, br;q=0')]).toEqual(['gzip']);
    expect([...parseAcceptEncoding('*')].sort()).toEqual(['br', 'gzip']);
    expect([...parseAcceptEncoding('br;q=0, *;q=0.5')]).toEqual(['gzip']);
    expect([...parseAcceptEncoding('identity')]).toEqual([]);
  });
});
