import { describe, expect, it } from 'vitest';
import {
  detScores,
  editDistance,
  intersectionArea,
  iou,
  matchDetections,
  normalizeWord,
  percentile,
  polygonArea,
  splitWords,
  wordRecall,
  type Polygon,
} from './metrics';

const rect = (x0: number, y0: number, x1: number, y1: number): Polygon => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
];

describe('polygon overlap', () => {
  it('measures areas, intersections and IoU, including rotated quads', () => {
    expect(polygonArea(rect(0, 0, 10, 5))).toBe(50);
    expect(intersectionArea(rect(0, 0, 10, 10), rect(5, 5, 15, 15))).toBe(25);
    expect(iou(rect(0, 0, 10, 10), rect(5, 5, 15, 15))).toBeCloseTo(25 / 175, 6);
    expect(iou(rect(0, 0, 10, 10), rect(20, 20, 30, 30))).toBe(0);
    const diamond: Polygon = [
      [5, 0],
      [10, 5],
      [5, 10],
      [0, 5],
    ];
    expect(intersectionArea(diamond, rect(0, 0, 10, 10))).toBeCloseTo(50, 6);
    expect(iou(diamond, rect(0, 0, 10, 10))).toBeCloseTo(0.5, 6);
    // Sub-pixel corners survive the fixed-point conversion.
    expect(polygonArea(rect(0, 0, 0.5, 0.5))).toBeCloseTo(0.25, 6);
  });
});

describe('matchDetections', () => {
  it('matches one-to-one by IoU and counts misses and false alarms', () => {
    const c = matchDetections(
      [rect(0, 0, 100, 20), rect(300, 300, 400, 320)],
      [
        { points: rect(2, 1, 98, 19), ignore: false },
        { points: rect(0, 100, 50, 120), ignore: false },
      ],
    );
    expect(c).toEqual({ gt: 2, gtMatched: 1, pred: 2, predMatched: 1 });
    expect(detScores(c)).toEqual({ precision: 0.5, recall: 0.5, hmean: 0.5 });
  });
  it('lets one line cover several word boxes and counts it once', () => {
    const words = [rect(0, 0, 40, 20), rect(50, 0, 90, 20), rect(100, 0, 140, 20)].map((points) => ({ points, ignore: false }));
    const c = matchDetections([rect(-3, -3, 143, 23)], words);
    expect(c).toEqual({ gt: 3, gtMatched: 3, pred: 1, predMatched: 1 });
  });
  it('does not let a huge box claim small words it mostly does not consist of', () => {
    const c = matchDetections([rect(0, 0, 1000, 1000)], [{ points: rect(10, 10, 50, 30), ignore: false }]);
    expect(c).toEqual({ gt: 1, gtMatched: 0, pred: 1, predMatched: 0 });
  });
  it('leaves predictions on ignore regions out, and ignore boxes are never misses', () => {
    const c = matchDetections(
      [rect(0, 0, 50, 20), rect(200, 0, 260, 20)],
      [
        { points: rect(1, 1, 49, 19), ignore: true },
        { points: rect(500, 0, 560, 20), ignore: true },
        { points: rect(200, 0, 258, 20), ignore: false },
      ],
    );
    expect(c).toEqual({ gt: 1, gtMatched: 1, pred: 1, predMatched: 1 });
    expect(detScores({ gt: 0, gtMatched: 0, pred: 0, predMatched: 0 })).toEqual({ precision: 1, recall: 1, hmean: 1 });
  });
});

describe('text metrics', () => {
  it('edit distance counts insertions, deletions and substitutions over code points', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('CAFÉ', 'CAFE')).toBe(1);
    expect(editDistance('same', 'same')).toBe(0);
  });
  it('normalises words for comparison and splits text into peer-comparison words', () => {
    expect(normalizeWord('latu  e')).toBe('latue');
    expect(normalizeWord('Hello')).toBe('hello');
    expect(splitWords("McDonald's (#328) TOTAL:8.20")).toEqual(['mcdonald', 's', '328', 'total', '8', '20']);
  });
  it('word recall counts non-ignored labelled words of 3+ characters found among returned words', () => {
    const labels = [
      { text: 'TOTAL AMOUNT', ignore: false },
      { text: 'RM 8.20', ignore: false },
      { text: '###', ignore: true },
      { text: 'CASH', ignore: false },
    ];
    expect(wordRecall(labels, ['Total amount: 8.20', 'cash'])).toEqual({ found: 3, total: 3 });
    expect(wordRecall(labels, ['TOTALAMOUNT'])).toEqual({ found: 0, total: 3 });
  });
  it('percentile uses the nearest rank like the peer scripts', () => {
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(10);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(3);
  });
});
