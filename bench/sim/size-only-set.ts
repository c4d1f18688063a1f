/** An OCR set of sizes only, for simulator tests: det.jsonl and files of the stated byte size (never read). */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SizedImage {
  image: string;
  width: number;
  height: number;
  bytes: number;
  lines: number;
}

export function sizeOnlySet(prefix: string, rows: readonly SizedImage[]): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'images'));
  writeFileSync(
    join(dir, 'det.jsonl'),
    rows
      .map((r) =>
        JSON.stringify({
          image: r.image,
          width: r.width,
          height: r.height,
          boxes: Array.from({ length: r.lines }, () => ({ points: [], text: 'x', ignore: false })),
        }),
      )
      .join('\n'),
  );
  for (const r of rows) writeFileSync(join(dir, r.image), Buffer.alloc(r.bytes));
  return dir;
}
