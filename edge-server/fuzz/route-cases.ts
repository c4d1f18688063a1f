/** fast-check generators of shared-memory route requests and static file paths (traversal, odd encodings). */
import fc from 'fast-check';
import { enc, headers, headerText, optional, pathText, type CaseContext, type FuzzCase } from './arbitraries';
import { REGIONS } from './oip-cases';

export function shmCases(ctx: CaseContext): fc.Arbitrary<FuzzCase> {
  const key = fc.oneof(
    { arbitrary: fc.constantFrom(ctx.shmKey, `/${ctx.shmKey}`), weight: 4 },
    { arbitrary: fc.constantFrom('../../etc/passwd', '/etc/passwd', '..', '.', '', 'does-not-exist', '//x', `${ctx.shmKey}/..`, 'a'.repeat(200)), weight: 2 },
    { arbitrary: fc.oneof(fc.integer(), fc.constant(null), fc.constant(['x'])), weight: 1 },
  );
  const register = fc
    .record({
      region: fc.constantFrom(...REGIONS.filter((r) => !r.includes('/')), 'a%2fb', '%2e%2e'),
      body: fc.oneof(
        {
          arbitrary: fc
            .record(
              {
                key,
                offset: optional(fc.oneof(fc.constantFrom(0, 8, ctx.shmBytes, ctx.shmBytes + 1, -1, 1.5, 2 ** 53), fc.constant('0'))),
                byte_size: fc.oneof(fc.constantFrom(0, 16, 12288, ctx.shmBytes, ctx.shmBytes + 1, -1, 2 ** 60), fc.constant('16')),
              },
              { requiredKeys: ['key'] },
            )
            .map((o) => JSON.stringify(o)),
          weight: 6,
        },
        { arbitrary: fc.oneof(fc.constantFrom('', '{', 'null', '[]', '"x"', '{"key":'), fc.string({ maxLength: 20 })), weight: 1 },
        { arbitrary: fc.constant('{"key":"' + 'k'.repeat(5000) + '"}'), weight: 1 },
      ),
    })
    .map(({ region, body }) => ({ method: 'POST', path: `/v2/systemsharedmemory/region/${region}/register`, body: enc.encode(body) }));
  const other = fc.oneof(
    fc.constant({ method: 'GET', path: '/v2/systemsharedmemory/status' }),
    fc.constantFrom(...REGIONS.filter((r) => !r.includes('/'))).map((r) => ({ method: 'GET', path: `/v2/systemsharedmemory/region/${r}/status` })),
    fc.constant({ method: 'POST', path: '/v2/systemsharedmemory/unregister' }),
    fc.constantFrom(...REGIONS.filter((r) => !r.includes('/'))).map((r) => ({ method: 'POST', path: `/v2/systemsharedmemory/region/${r}/unregister` })),
  );
  return fc
    .record({
      request: fc.oneof({ arbitrary: register, weight: 3 }, { arbitrary: other, weight: 2 }),
      // A proxy's header makes a loopback client remote: refused.
      forwarded: optional(fc.constantFrom('203.0.113.9', '127.0.0.1'), 0.1),
    })
    .map(({ request, forwarded }): FuzzCase => ({
      kind: 'shm',
      method: request.method,
      path: request.path,
      headers: headers({ 'content-type': 'body' in request ? 'application/json' : undefined, 'x-forwarded-for': forwarded }),
      body: 'body' in request ? request.body : undefined,
    }));
}

const SEGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2e',
  '.%2e',
  '..%2f',
  '%2f',
  '%5c',
  '..\\',
  '\\',
  '%00',
  '%',
  '%zz',
  '%c0%af',
  '%c0%ae%c0%ae',
  '%252e%252e',
  '~',
  ';',
  'index.html',
  'assets',
  'app-1a2b3c.js',
  'secret.txt',
  'models',
  'manifest.json',
  'profiles.json',
  'ppocr-det',
  '1',
  'model.onnx',
  'v1',
  'v2',
  'etc',
  'passwd',
  '',
  'sw.js',
  '.env',
  'node_modules',
];

export function staticCases(ctx: CaseContext): fc.Arbitrary<FuzzCase> {
  const segment = fc.oneof({ arbitrary: fc.constantFrom(...SEGMENTS), weight: 6 }, { arbitrary: pathText(10), weight: 1 });
  return fc
    .record({
      prefix: fc.constantFrom('/', '/models/', '/assets/', '//', '/v1/', '/v2/', '/./'),
      segments: fc.array(segment, { maxLength: 8 }),
      long: optional(fc.integer({ min: 1000, max: 20_000 }), 0.05),
      method: fc.oneof({ arbitrary: fc.constant('GET'), weight: 6 }, { arbitrary: fc.constantFrom('HEAD', 'POST', 'OPTIONS'), weight: 1 }),
      etag: optional(fc.oneof(fc.constantFrom('*', 'W/"x"', '"', ','), headerText(20)), 0.1),
    })
    .map(({ prefix, segments, long, method, etag }) => ({
      kind: 'static' as const,
      method,
      path: prefix + segments.join('/') + (long ? 'a'.repeat(long) : ''),
      headers: headers({ 'if-none-match': etag }),
    }));
}
