import { describe, expect, it } from 'vitest';
import { detInputSize } from '../ocr/preprocess';
import { detInputPixels } from './stage-table';

describe('detInputPixels', () => {
  it('sizes the detector input exactly as the OCR pipeline does', () => {
    for (const [w, h] of [
      [1280, 960],
      [4000, 3000],
      [100, 50],
      [960, 544],
      [333, 1999],
      [31, 31],
    ])
      for (const side of [320, 640, 960, 1280]) {
        const s = detInputSize(w, h, side);
        expect(detInputPixels(w, h, side)).toBe(s.width * s.height);
      }
  });
});
