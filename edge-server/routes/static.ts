/**
 * Files: the model repository by manifest path (content-addressed ETags, immutable caching) and the built web app
 * with an index.html fallback for client-side routes.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { brotliCompressSync } from 'node:zlib';
import { Hono, type Context } from 'hono';
import { ServerError } from '../http/errors';
import { COMPRESSIBLE, negotiatedCopy, parseAcceptEncoding } from '../http/precompress';
import type { AppDeps } from '../app';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.onnx': 'application/octet-stream',
  '.ort': 'application/octet-stream',
};

const API_PREFIXES = ['/v1/', '/v2/', '/models/'];
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** True when an If-None-Match header names this ETag (weak comparison, as RFC 9110 asks for GET). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new ServerError('BadRequest', `the path ${path} is not valid percent-encoding`);
  }
}

/**
 * Sends `path`, or its build-time Brotli/gzip copy when the client accepts one, with an ETag per encoding (a cache
 * must never answer a gzip-only client with Brotli bytes under the same tag) and `Vary: Accept-Encoding`. Integrity
 * stays on the decoded bytes: ETags and manifest hashes name the file, whatever encoding carries it.
 */
function fileResponse(c: Context, path: string, size: number, headers: Record<string, string> & { ETag: string }): Response {
  const type = MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
  const copy = negotiatedCopy(path, c.req.header('accept-encoding'));
  const etag = copy ? encodedEtag(headers.ETag, copy.encoding) : headers.ETag;
  const vary: Record<string, string> = COMPRESSIBLE.has(extname(path).toLowerCase()) ? { Vary: 'Accept-Encoding' } : {};
  const common = { ...headers, ...vary, ETag: etag };
  if (etagMatches(c.req.header('if-none-match'), etag)) return notModified(c, common);
  const all = {
    'Content-Type': type,
    'Content-Length': String(copy?.size ?? size),
    ...(copy ? { 'Content-Encoding': copy.encoding } : {}),
    ...common,
  };
  if (c.req.method === 'HEAD') return c.body(null, 200, all);
  const stream = Readable.toWeb(createReadStream(copy?.path ?? path)) as unknown as ReadableStream;
  return c.body(stream, 200, all);
}

/** `"abc"` → `"abc-br"`, `W/"abc"` → `W/"abc-br"`. */
export function encodedEtag(etag: string, encoding: string): string {
  return etag.replace(/"$/, `-${encoding}"`);
}

function notModified(c: Context, headers: Record<string, string>): Response {
  return c.body(null, 304, headers);
}

export function modelFileRoutes(deps: AppDeps): Hono {
  const { repo } = deps;
  const app = new Hono();
  // The manifest lives in memory (tens of KB of JSON): compressed once, on first request.
  let manifestBr: Buffer | undefined;
  app.get('/manifest.json', (c) => {
    const br = parseAcceptEncoding(c.req.header('accept-encoding') ?? '').has('br');
    const etag = br ? encodedEtag(repo.manifestEtag, 'br') : repo.manifestEtag;
    const headers = { ETag: etag, 'Cache-Control': 'no-cache', Vary: 'Accept-Encoding' };
    if (etagMatches(c.req.header('if-none-match'), etag)) return notModified(c, headers);
    if (!br) return c.body(new Uint8Array(repo.manifestBytes), 200, { ...headers, 'Content-Type': 'application/json' });
    manifestBr ??= brotliCompressSync(repo.manifestBytes);
    return c.body(new Uint8Array(manifestBr), 200, { ...headers, 'Content-Type': 'application/json', 'Content-Encoding': 'br' });
  });
  // Measured model profiles (installed beside the manifest by `npm run models`): the planner's starting figures.
  app.get('/profiles.json', (c) => {
    const path = join(repo.dir, 'profiles.json');
    if (!existsSync(path)) throw new ServerError('NotFound', 'models/profiles.json is not in the model repository; run "npm run models"');
    const st = statSync(path);
    const headers = { ETag: `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`, 'Cache-Control': 'no-cache' };
    return fileResponse(c, path, st.size, headers);
  });
  app.get('/*', (c) => {
    const rel = decodePath(c.req.path.slice('/models/'.length));
    const file = repo.files.get(rel);
    if (!file) throw new ServerError('NotFound', `models/${rel} is not a file listed in the model manifest`);
    const headers = { ETag: `"${file.sha256}"`, 'Cache-Control': IMMUTABLE };
    return fileResponse(c, file.absolutePath, file.bytes, headers);
  });
  return app;
}

export function webAppRoutes(deps: AppDeps): Hono {
  const root = resolve(deps.config.staticDir);
  const app = new Hono();
  app.get('/*', (c) => {
    const path = c.req.path;
    if (API_PREFIXES.some((p) => path.startsWith(p)) || path === '/v1' || path === '/v2') {
      throw new ServerError('NotFound', `no route GET ${path}`);
    }
    const rel = decodePath(path);
    const candidate = resolve(root, '.' + (rel.endsWith('/') ? rel + 'index.html' : rel));
    if (candidate !== root && !candidate.startsWith(root + sep)) throw new ServerError('NotFound', `no file ${path}`);
    if (existsSync(candidate) && statSync(candidate).isFile()) return serveAppFile(c, candidate, rel);
    // Client-side routes have no extension; a missing asset must stay a 404 instead of turning into HTML.
    if (extname(rel) !== '') throw new ServerError('NotFound', `no file ${path} in the web app`);
    const index = join(root, 'index.html');
    if (!existsSync(index)) {
      throw new ServerError('WebAppMissing', `the web app is not built (no ${index}); run "npm run build" or set STATIC_DIR`);
    }
    return serveAppFile(c, index, '/index.html');
  });
  return app;
}

function serveAppFile(c: Context, path: string, rel: string): Response {
  const st = statSync(path);
  const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  // Vite puts content-hashed names under /assets/; everything else (index.html, sw.js, manifest) must revalidate.
  const headers = { ETag: etag, 'Cache-Control': rel.startsWith('/assets/') ? IMMUTABLE : 'no-cache' };
  return fileResponse(c, path, st.size, headers);
}
