import { describe, expect, it } from 'vitest';
import { formatImageSize, parseImageSize } from './headers';

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
