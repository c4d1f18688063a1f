/** Request shapes and generator pieces shared by the fuzz case generators of every surface. */
import fc from 'fast-check';
import type { ImageCorpus } from './images';

export type CaseKind = 'ocr' | 'oip-json' | 'oip-raw' | 'oip-binary' | 'oip-get' | 'shm' | 'static';

/** One request as it goes on the wire. */
export interface FuzzCase {
  kind: CaseKind;
  method: string;
  /** Sent as written (no URL normalisation), so dot segments and odd escapes reach the server. */
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

export interface CaseContext {
  images: ImageCorpus;
  /** Shared memory object (file name in EDGE_SHARED_MEMORY_DIR) the fuzzer created and may register. */
  shmKey: string;
  shmBytes: number;
}

export const enc = new TextEncoder();

/** Printable ASCII plus Latin-1: what node:http lets a client put into a header value. */
export const headerText = (maxLength = 40) =>
  fc.string({
    unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((c) => String.fromCharCode(c)),
    maxLength,
  });
/** Characters node:http accepts in a request path. */
export const pathText = (maxLength = 12) =>
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength }).map((s) => s.replace(/[#?]/g, '_'));

/** `arb` or undefined; `ratio` = how often present per absent. */
export const optional = <T>(arb: fc.Arbitrary<T>, ratio = 1) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 20 }, { arbitrary: arb, weight: Math.max(1, Math.round(ratio * 20)) });

export function headers(entries: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) out[k] = v;
  return out;
}

export const origin = optional(
  fc.constantFrom('http://localhost:5173', 'http://127.0.0.1:8787', 'http://evil.example:8787', 'null', 'https://ocr.example.com', 'file://', '*'),
  0.1,
);
