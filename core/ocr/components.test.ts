import { describe, expect, it } from 'vitest';
import { findRegions } from './components';

const parse = (rows: string[]) => ({
  bitmap: Uint8Array.from(
    rows
      .join('')
      .split('')
      .map((c) => (c === '#' ? 1 : 0)),
  ),
  width: rows[0].length,
  height: rows.length,
});

describe('findRegions', () => {
  it('separates blobs, joins diagonal neighbours (8-connectivity), reports area and raster order', () => {
    const { bitmap, width, height } = parse(['........', '.##...#.', '.##..#..', '.....#..', '#.......']);
    const regions = findRegions(bitmap, width, height);
    expect(regions.map((r) => r.area)).toEqual([4, 3, 1]);
    expect(regions[0].points).toEqual([
      [1, 1],
      [2, 1],
      [1, 2],
      [2, 2],
    ]);
    expect(regions[1].points).toContainEqual([6, 1]);
    expect(regions[1].points).toContainEqual([5, 3]);
    expect(regions[2].points).toEqual([[0, 4]]);
  });
  it('merges a U shape whose arms meet only at the bottom', () => {
    const { bitmap, width, height } = parse(['#...#', '#...#', '#####']);
    expect(findRegions(bitmap, width, height)).toHaveLength(1);
  });
});
