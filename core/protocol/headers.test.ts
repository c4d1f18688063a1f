import { describe, expect, it } from 'vitest';
import { formatEscalate, formatImageSize, parseEscalate, parseImageSize } from './headers';

describe('x-tandem-image-size', () => {
  it('reads back what it writes', () => {
    expect(parseImageSize(formatImageSize(1280, 720))).toEqual({ width: 1280, height: 720 });
    expect(parseImageSize(' 463x1000 ')).toEqual({ width: 463, height: 1000 });
    expect(parseImageSize(undefined)).toBeNull();
  });

  it('marks anything but two positive integers as malformed', () => {
    for (const raw of ['', 'wide', '1280', '1280x', 'x720', '0x720', '-1x720', '12.5x7', '1280X720', '1280x720x3', '12345678x1']) {
      expect(parseImageSize(raw), raw).toBeUndefined();
    }
  });
});

describe('x-tandem-escalate', () => {
  it('reads back what it writes, rounding to whole lines and milliseconds', () => {
    expect(parseEscalate(formatEscalate({ side: 960, below: 19.5, ms: 1234.6 }))).toEqual({ side: 960, below: 20, ms: 1235 });
    expect(parseEscalate('ms=0;below=3;side=640')).toEqual({ side: 640, below: 3, ms: 0 });
    expect(parseEscalate(undefined)).toBeNull();
  });

  it('marks missing, repeated, unknown or non-integer fields as malformed', () => {
    for (const raw of [
      '',
      'side=960',
      'side=960; below=20',
      'side=0; below=1; ms=1',
      'side=960; below=20; ms=-1',
      'side=960; below=2; ms=1; ms=2',
      'side=960; below=2; ms=1.5',
      'side=960; lines=2; ms=1',
    ]) {
      expect(parseEscalate(raw), raw).toBeUndefined();
    }
  });
});
