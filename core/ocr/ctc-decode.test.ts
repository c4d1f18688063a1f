import { describe, expect, it } from 'vitest';
import { ctcGreedyDecode } from './ctc-decode';

const charset = ['', 'a', 'b', 'c', ' '];
/** One row per step: [blank, a, b, c, space]. */
const matrix = (rows: number[][]) => Float32Array.from(rows.flat());

describe('ctcGreedyDecode', () => {
  it('merges repeats, drops blanks, keeps letters separated by a blank, averages kept probabilities', () => {
    const rows = [
      [0.1, 0.8, 0.05, 0.05, 0],
      [0.1, 0.6, 0.2, 0.1, 0], // repeat of a: merged
      [0.9, 0.05, 0.05, 0, 0], // blank
      [0.2, 0.7, 0.1, 0, 0], // a again after a blank: kept
      [0.1, 0, 0, 0, 0.9], // space
      [0.3, 0, 0.1, 0.6, 0],
    ];
    const r = ctcGreedyDecode(matrix(rows), 6, 5, charset);
    expect(r.text).toBe('aa c');
    expect(r.score).toBeCloseTo((0.8 + 0.7 + 0.9 + 0.6) / 4, 6);
  });
  it('reads a line at an offset inside a batch and gives score 0 for all blanks', () => {
    const line1 = [[1, 0, 0, 0, 0], [1, 0, 0, 0, 0]];
    const line2 = [[0, 0, 1, 0, 0], [1, 0, 0, 0, 0]];
    const data = matrix([...line1, ...line2]);
    expect(ctcGreedyDecode(data, 2, 5, charset, 0)).toEqual({ text: '', score: 0 });
    expect(ctcGreedyDecode(data, 2, 5, charset, 10)).toEqual({ text: 'b', score: 1 });
  });
});
