import { describe, expect, it } from 'vitest';
import { collapseSteps, ctcGreedyDecode, ctcSteps, packCtcSteps, unpackCtcSteps } from './ctc-decode';

const GAPS = { spaceIndex: 4, spaceThresh: 0.2 };

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
    const line1 = [
      [1, 0, 0, 0, 0],
      [1, 0, 0, 0, 0],
    ];
    const line2 = [
      [0, 0, 1, 0, 0],
      [1, 0, 0, 0, 0],
    ];
    const data = matrix([...line1, ...line2]);
    expect(ctcGreedyDecode(data, 2, 5, charset, 0)).toEqual({ text: '', score: 0 });
    expect(ctcGreedyDecode(data, 2, 5, charset, 10)).toEqual({ text: 'b', score: 1 });
  });

  it('restores a word gap where the space class came close, only between characters', () => {
    const rows = [
      [0.7, 0, 0, 0, 0.3], // leading: never a space
      [0.1, 0.9, 0, 0, 0],
      [0.75, 0, 0, 0, 0.25], // gap between a and b: space
      [0.1, 0, 0.9, 0, 0],
      [0.9, 0, 0, 0, 0.1], // weak gap: no space
      [0.1, 0, 0, 0.9, 0],
      [0.6, 0, 0, 0, 0.4], // trailing: never a space
    ];
    expect(ctcGreedyDecode(matrix(rows), 7, 5, charset, 0, GAPS)).toEqual({ text: 'a bc', score: expect.closeTo(0.9, 6) });
    // Plain greedy decoding (PaddleOCR's) ignores the runner-up.
    expect(ctcGreedyDecode(matrix(rows), 7, 5, charset).text).toBe('abc');
    // A space that wins outright is not doubled.
    const won = [
      [0.1, 0.9, 0, 0, 0],
      [0.6, 0, 0, 0, 0.4],
      [0.1, 0, 0, 0, 0.9],
      [0.1, 0, 0.9, 0, 0],
    ];
    expect(ctcGreedyDecode(matrix(won), 4, 5, charset, 0, GAPS).text).toBe('a b');
  });
});

describe('packCtcSteps', () => {
  it('keeps exactly what greedy decoding with word gaps reads, per line of a batch', () => {
    const line1 = [
      [0.1, 0.8, 0.05, 0.05, 0],
      [0.7, 0.05, 0.05, 0, 0.2],
      [0.1, 0, 0.8, 0.1, 0],
    ];
    const line2 = [
      [0.2, 0.1, 0.1, 0.6, 0],
      [0.9, 0, 0, 0, 0.1],
      [0.3, 0.3, 0.3, 0.05, 0.05],
    ];
    const data = matrix([...line1, ...line2]);
    const packed = packCtcSteps(data, 2, 3, 5, GAPS.spaceIndex);
    expect(packed.length).toBe(2 * 3 * 3);
    for (const [line, offset] of [
      [0, 0],
      [1, 15],
    ] as const) {
      const full = ctcSteps(data, 3, 5, GAPS.spaceIndex, offset);
      const back = unpackCtcSteps(packed, 3, line * 9);
      expect(back).toEqual(full);
      expect(collapseSteps(back, charset, GAPS)).toEqual(ctcGreedyDecode(data, 3, 5, charset, offset, GAPS));
    }
    expect(collapseSteps(unpackCtcSteps(packed, 3, 0), charset, GAPS).text).toBe('a b');
  });
});
