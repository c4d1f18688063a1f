import { describe, expect, it } from 'vitest';
import type { Point } from '../../core/ocr/types';
import { readingOrder } from './reading-order';

const line = (text: string, x: number, y: number, w = 100, h = 20) => ({
  text,
  box: [
    [x, y],
    [x + w, y],
    [x + w, y + h],
    [x, y + h],
  ] as [Point, Point, Point, Point],
});

describe('readingOrder', () => {
  it('reads rows top to bottom and each row left to right', () => {
    const lines = [line('12.50', 300, 52), line('Total', 10, 50), line('Receipt', 10, 0), line('Thanks', 10, 100)];
    expect(readingOrder(lines).map((l) => l.text)).toEqual(['Receipt', 'Total', '12.50', 'Thanks']);
  });

  it('keeps lines that barely touch vertically in separate rows', () => {
    const lines = [line('second', 0, 18), line('first', 200, 0)];
    expect(readingOrder(lines).map((l) => l.text)).toEqual(['first', 'second']);
  });

  it('returns an empty list for no lines', () => {
    expect(readingOrder([])).toEqual([]);
  });
});
