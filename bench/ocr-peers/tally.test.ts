import { describe, expect, it } from 'vitest';
import { parsePeerBenchArgs } from './args';
import { markdownTable, meetsGoal, Tally } from './tally';

describe('parsePeerBenchArgs', () => {
  it('defaults to the shared set, no output file, every image', () => {
    expect(parsePeerBenchArgs([])).toEqual({ set: null, out: null, limit: Infinity });
  });
  it('reads --set, --out and --limit', () => {
    expect(parsePeerBenchArgs(['--set', 'd', '--out', 'o.json', '--limit', '5'])).toEqual({ set: 'd', out: 'o.json', limit: 5 });
  });
  it.each([['--limit', '0'], ['--limit', 'x'], ['--limit', '2.5'], ['--bogus']])('refuses %s %s with a coded error', (...argv) => {
    expect(() => parsePeerBenchArgs(argv.filter(Boolean) as string[])).toThrow(
      expect.objectContaining({ name: 'BAD_ARGUMENT', message: expect.stringMatching(/Usage/) }),
    );
  });
});

describe('Tally', () => {
  it('pools words over datasets (not an average of ratios) and takes nearest-rank percentiles of wall time', () => {
    const t = new Tally();
    t.add('a', 1, 1, 10);
    t.add('b', 0, 3, 30);
    t.add('b', 3, 3, 20);
    const f = t.figures();
    expect(f.word_recall).toBeCloseTo(4 / 7);
    expect(f.per_dataset).toEqual({ a: { word_recall: 1, words: 1, images: 1 }, b: { word_recall: 0.5, words: 6, images: 2 } });
    expect(f.ms_p50).toBe(20);
    expect(f.ms_p90).toBe(30);
    expect(f.images).toBe(3);
  });

  it('renders one Markdown row per runner with a column per dataset any runner saw', () => {
    const a = new Tally();
    a.add('x', 1, 2, 5);
    const b = new Tally();
    b.add('y', 2, 2, 7);
    const lines = markdownTable({ ours: a.figures(), peer: b.figures() }).split('\n');
    expect(lines[0]).toBe('| runner | word recall | x | y | ms/image p50 | p90 | images |');
    expect(lines[2]).toBe('| ours | 0.500 | 0.500 | - | 5 | 5 | 1 |');
    expect(lines[3]).toBe('| peer | 1.000 | - | 1.000 | 7 | 7 | 1 |');
  });
});

describe('meetsGoal', () => {
  const fig = (word_recall: number, ms_p50: number) => ({ word_recall, ms_p50, ms_p90: ms_p50, per_dataset: {}, images: 1 });
  it('compares with the most accurate peer and asks for half its median time', () => {
    const g = meetsGoal(fig(0.9, 100), [fig(0.8, 150), fig(0.85, 400)])!;
    expect(g.best.word_recall).toBe(0.85);
    expect(g).toMatchObject({ accuracy: true, speed: true });
    expect(meetsGoal(fig(0.9, 201), [fig(0.85, 400)])).toMatchObject({ accuracy: true, speed: false });
    expect(meetsGoal(fig(0.8, 100), [fig(0.85, 400)])).toMatchObject({ accuracy: false, speed: true });
  });
});
