/** The subset of clipper-lib (a CommonJS build of Angus Johnson's Clipper 6.4) the OCR post-processing uses. */
declare module 'clipper-lib' {
  namespace ClipperLib {
    interface IntPoint {
      X: number;
      Y: number;
    }
    type Path = IntPoint[];
    type Paths = Path[];

    const JoinType: { jtSquare: 0; jtRound: 1; jtMiter: 2 };
    const EndType: { etOpenSquare: 0; etOpenRound: 1; etOpenButt: 2; etClosedLine: 3; etClosedPolygon: 4 };
    const ClipType: { ctIntersection: 0; ctUnion: 1; ctDifference: 2; ctXor: 3 };
    const PolyType: { ptSubject: 0; ptClip: 1 };
    const PolyFillType: { pftEvenOdd: 0; pftNonZero: 1; pftPositive: 2; pftNegative: 3 };

    class ClipperOffset {
      constructor(miterLimit?: number, arcTolerance?: number);
      MiterLimit: number;
      ArcTolerance: number;
      AddPath(path: Path, joinType: number, endType: number): void;
      AddPaths(paths: Paths, joinType: number, endType: number): void;
      Execute(solution: Paths, delta: number): void;
      Clear(): void;
    }

    class Clipper {
      constructor(initOptions?: number);
      AddPath(path: Path, polyType: number, closed: boolean): boolean;
      AddPaths(paths: Paths, polyType: number, closed: boolean): boolean;
      Execute(clipType: number, solution: Paths, subjFillType: number, clipFillType: number): boolean;
      static Area(poly: Path): number;
    }
  }
  export default ClipperLib;
}
