/// <reference path="./clipper-lib.d.ts" />
/** DB's box expansion: the detector predicts shrunk text kernels, grown back by a distance proportional to area/perimeter. */
import ClipperLib from 'clipper-lib';
import type { Point } from './types';
import { polygonArea, polygonPerimeter } from './geometry';

/**
 * Offsets `poly` outwards by area * ratio / perimeter with round joins (pyclipper JT_ROUND, ET_CLOSEDPOLYGON,
 * integer coordinates as pyclipper uses). Returns null when the offset does not give exactly one polygon.
 */
export function unclip(poly: Point[], ratio: number): Point[] | null {
  const perimeter = polygonPerimeter(poly);
  if (perimeter === 0) return null;
  const distance = (polygonArea(poly) * ratio) / perimeter;
  const offset = new ClipperLib.ClipperOffset();
  offset.AddPath(
    poly.map(([x, y]) => ({ X: Math.round(x), Y: Math.round(y) })),
    ClipperLib.JoinType.jtRound,
    ClipperLib.EndType.etClosedPolygon,
  );
  const solution: ClipperLib.Paths = [];
  offset.Execute(solution, distance);
  if (solution.length !== 1) return null;
  return solution[0].map((p) => [p.X, p.Y] as Point);
}
