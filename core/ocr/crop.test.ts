import { describe, expect, it } from 'vitest';
import { cropQuad, perspectiveTransform } from './crop';
import type { Point, RgbaImage } from './types';

/** Image whose red channel is x and green channel is y, so every sample says where it came from. */
function coordinateImage(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 0, 255], (y * width + x) * 4);
  return { data, width, height };
}
const at = (img: RgbaImage, x: number, y: number) => [img.data[(y * img.width + x) * 4], img.data[(y * img.width + x) * 4 + 1]];

describe('cropQuad', () => {
  it('maps quad corners to rectangle corners', () => {
    const quad: Point[] = [
      [10, 5],
      [50, 8],
      [48, 30],
      [12, 28],
    ];
    const m = perspectiveTransform(
      [
        [0, 0],
        [40, 0],
        [40, 20],
        [0, 20],
      ],
      quad,
    );
    const apply = ([x, y]: Point) => {
      const z = m[6] * x + m[7] * y + m[8];
      return [(m[0] * x + m[1] * y + m[2]) / z, (m[3] * x + m[4] * y + m[5]) / z];
    };
    expect(apply([40, 20])[0]).toBeCloseTo(48, 6);
    expect(apply([40, 20])[1]).toBeCloseTo(30, 6);
    expect(apply([0, 20])[0]).toBeCloseTo(12, 6);
  });
  it('cuts an axis-aligned quad as the sub-image', () => {
    const crop = cropQuad(coordinateImage(100, 60), [
      [20, 10],
      [60, 10],
      [60, 30],
      [20, 30],
    ]);
    expect([crop.width, crop.height]).toEqual([40, 20]);
    expect(at(crop, 0, 0)).toEqual([20, 10]);
    expect(at(crop, 39, 19)).toEqual([59, 29]);
    expect(at(crop, 5, 7)).toEqual([25, 17]);
  });
  it('straightens a rotated quad', () => {
    // A 40 x 10 rectangle turned 90° clockwise: its top edge runs downwards along x = 50.
    const crop = cropQuad(coordinateImage(100, 100), [
      [50, 20],
      [50, 60],
      [40, 60],
      [40, 20],
    ]);
    expect([crop.width, crop.height]).toEqual([40, 10]);
    expect(at(crop, 0, 0)).toEqual([50, 20]);
    expect(at(crop, 30, 0)).toEqual([50, 50]);
    expect(at(crop, 30, 5)).toEqual([45, 50]);
  });
  it('lays a tall crop down with a quarter turn counter-clockwise', () => {
    const crop = cropQuad(coordinateImage(100, 100), [
      [10, 10],
      [20, 10],
      [20, 50],
      [10, 50],
    ]);
    expect([crop.width, crop.height]).toEqual([40, 10]);
    // The crop's top-right corner (x = 19, y = 10 in the image) ends up top-left.
    expect(at(crop, 0, 0)).toEqual([19, 10]);
    expect(at(crop, 39, 0)).toEqual([19, 49]);
  });
});
