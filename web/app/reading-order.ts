import type { OcrLine, Point } from '../../core/ocr/types';

/**
 * Lines as a person reads them: rows from top to bottom, left to right within a row. Two lines share a row when
 * their vertical extents overlap by more than half of the shorter one (the detector's order follows box contours,
 * which can put a price before the item it belongs to).
 */
export function readingOrder<T extends Pick<OcrLine, 'box'>>(lines: readonly T[]): T[] {
  const spans = lines.map((line, index) => {
    const ys = line.box.map((p: Point) => p[1]);
    const xs = line.box.map((p: Point) => p[0]);
    return { line, index, top: Math.min(...ys), bottom: Math.max(...ys), left: Math.min(...xs) };
  });
  spans.sort((a, b) => a.top - b.top || a.left - b.left);
  const rows: (typeof spans)[] = [];
  for (const span of spans) {
    const row = rows.at(-1);
    const anchor = row?.[0];
    if (anchor && overlap(anchor, span) > 0.5 * Math.min(anchor.bottom - anchor.top, span.bottom - span.top)) row!.push(span);
    else rows.push([span]);
  }
  return rows.flatMap((row) => row.sort((a, b) => a.left - b.left).map((s) => s.line));
}

function overlap(a: { top: number; bottom: number }, b: { top: number; bottom: number }): number {
  return Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
}
