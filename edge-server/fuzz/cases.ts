/**
 * fast-check generators of raw HTTP requests against every surface of the edge server: whole-image OCR, Open
 * Inference Protocol bodies (JSON and binary tensor extension), shared-memory routes and static paths. Values are
 * drawn from what the server checks (budgets, accept lists, media types, shapes, datatypes, header lengths) mixed
 * with arbitrary text, so cases land both just inside and just outside every rule.
 */
import fc from 'fast-check';
import type { CaseContext, FuzzCase } from './arbitraries';
import { ocrCases } from './ocr-cases';
import { oipBinaryCases, oipGetCases, oipJsonCases, oipRawCases } from './oip-cases';
import { shmCases, staticCases } from './route-cases';

export type { CaseContext, CaseKind, FuzzCase } from './arbitraries';

/** Every surface, weighted toward the ones with the most input to check. */
export function fuzzCases(ctx: CaseContext): fc.Arbitrary<FuzzCase> {
  return fc.oneof(
    { arbitrary: ocrCases(ctx), weight: 5 },
    { arbitrary: oipJsonCases(ctx), weight: 4 },
    { arbitrary: oipBinaryCases(ctx), weight: 3 },
    { arbitrary: oipRawCases(), weight: 1 },
    { arbitrary: oipGetCases(), weight: 1 },
    { arbitrary: shmCases(ctx), weight: 2 },
    { arbitrary: staticCases(ctx), weight: 3 },
  );
}
