/** fast-check generators of `/v1/ocr` requests: image bytes (valid, damaged, bombs), query, budget, accept, media type. */
import fc from 'fast-check';
import { headers, headerText, optional, origin, type CaseContext, type FuzzCase } from './arbitraries';
import { damageImage, type ImageDamage } from './images';

const budget = fc.oneof(
  { arbitrary: fc.constantFrom('30000', '60000', '3e9', '1e300', '120000.5'), weight: 6 },
  fc.constantFrom(
    '1',
    '0',
    '0.5',
    '60000',
    '3e9',
    '3000000000',
    '1e300',
    '1e999',
    '2147483648',
    '-1',
    'NaN',
    'Infinity',
    '0x10',
    '12abc',
    ' ',
    '',
    '1,5',
    '+5',
  ),
  fc.double({ min: 0, max: 1e12, noNaN: true }).map(String),
  headerText(12),
);

export const ocrAccept = fc.oneof(
  fc.constantFrom(
    'det=ppocr-det,ppocr-det-int8;max_side=960,640,480;rec=ppocr-rec,ppocr-rec-int8',
    'max_side=320',
    'max_side=0',
    'max_side=99999',
    'det=nope',
    'rec=',
    ';;;',
    'det=ppocr-rec',
    'max_side=' + Array.from({ length: 20 }, (_, i) => 32 * (i + 1)).join(','),
  ),
  headerText(60),
);

const imageDamage: fc.Arbitrary<ImageDamage> = fc.oneof(
  { arbitrary: fc.constant<ImageDamage>({ kind: 'none' }), weight: 10 },
  fc.record({ kind: fc.constant('truncate' as const), fraction: fc.double({ min: 0, max: 0.999, noNaN: true }) }),
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 1, maxLength: 8 }),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('zero' as const),
    from: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    length: fc.integer({ min: 1, max: 4096 }),
  }),
  {
    arbitrary: fc.record({
      kind: fc.constant('dims' as const),
      width: fc.oneof(fc.constantFrom(0, 1, 6000, 16383, 65535, 100_000, 2 ** 31 - 1, 2 ** 32 - 1), fc.nat(70_000)),
      height: fc.oneof(fc.constantFrom(0, 1, 6600, 16383, 65535, 100_000, 2 ** 31 - 1, 2 ** 32 - 1), fc.nat(70_000)),
      fixCrc: fc.boolean(),
    }),
    weight: 3,
  },
  fc.record({ kind: fc.constant('append' as const), bytes: fc.integer({ min: 1, max: 10_000 }) }),
);

export function ocrCases(ctx: CaseContext): fc.Arbitrary<FuzzCase> {
  const body = fc.oneof(
    { arbitrary: fc.tuple(fc.nat(ctx.images.small.length - 1), imageDamage).map(([i, d]) => damageImage(ctx.images.small[i], d)), weight: 120 },
    // Rare (one in about 160): each takes seconds of decoding, and what matters is that several may meet.
    { arbitrary: fc.constant(ctx.images.zeroBomb), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 512 }), weight: 20 },
    { arbitrary: fc.constant(new Uint8Array(0)), weight: 10 },
    { arbitrary: fc.integer({ min: 1, max: 200_000 }).map((n) => new Uint8Array(n)), weight: 10 },
  );
  const query = fc.record(
    {
      maxSide: optional(fc.oneof(fc.constantFrom('32', '31', '4096', '4097', '960', 'abc', '1e3', '', '-5', '64.5'), fc.nat(5000).map(String)), 0.2),
      cls: optional(fc.constantFrom('0', '1', 'true', 'false', 'yes', ''), 0.2),
      accept: optional(ocrAccept, 0.05),
    },
    { requiredKeys: [] },
  );
  return fc
    .record({
      method: fc.oneof({ arbitrary: fc.constant('POST'), weight: 40 }, { arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'OPTIONS'), weight: 1 }),
      body,
      query,
      type: optional(
        fc.oneof(
          { arbitrary: fc.constantFrom('image/jpeg', 'image/png', 'image/webp', 'image/jpg', 'application/octet-stream', 'IMAGE/PNG; charset=x'), weight: 12 },
          fc.constantFrom('text/plain', 'application/json', 'multipart/form-data; boundary=x'),
          headerText(30),
        ),
        6,
      ),
      budget: optional(budget, 1),
      accept: optional(ocrAccept, 0.1),
      origin,
    })
    .map(({ method, body, query, type, budget, accept, origin }) => {
      const q = Object.entries(query)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${encodeURIComponent(v as string)}`)
        .join('&');
      return {
        kind: 'ocr' as const,
        method,
        path: `/v1/ocr${q ? '?' + q : ''}`,
        headers: headers({ 'content-type': type, 'x-tandem-budget-ms': budget, 'x-tandem-accept': accept, origin }),
        body: method === 'GET' ? undefined : body,
      };
    });
}
