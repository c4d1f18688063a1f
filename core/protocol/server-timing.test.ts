import { describe, expect, it } from 'vitest';
import { formatServerTiming, parseServerTiming } from './server-timing';

describe('parseServerTiming', () => {
  it('reads every stage the edge server sends', () => {
    const header = 'decode;dur=3.2,det;dur=41.5, postprocess;dur=2,cls;dur=0.4,rec;dur=30.25,total;dur=80.1';
    expect(parseServerTiming(header)).toEqual({ decode: 3.2, det: 41.5, postprocess: 2, cls: 0.4, rec: 30.25, total: 80.1 });
  });

  it('accepts descriptions, quoted durations and odd spacing', () => {
    expect(parseServerTiming('db;desc="Database";dur="12.5" ,  cache ; dur = 1')).toEqual({ db: 12.5, cache: 1 });
  });

  it('skips metrics without a duration and keeps the first of repeated names', () => {
    expect(parseServerTiming('miss, det;dur=5, det;dur=9, bad;dur=abc')).toEqual({ det: 5 });
  });

  it('returns nothing for a missing header', () => {
    expect(parseServerTiming(null)).toEqual({});
    expect(parseServerTiming('')).toEqual({});
  });

  it('reads back what the server formats', () => {
    const header = formatServerTiming(
      [
        ['queue', 1.25],
        ['infer', 20],
        ['total', 23.04],
      ],
      [['batch', 3]],
    );
    expect(header).toBe('queue;dur=1.3, infer;dur=20.0, total;dur=23.0, batch;desc="3"');
    expect(parseServerTiming(header)).toEqual({ queue: 1.3, infer: 20, total: 23 });
  });
});
