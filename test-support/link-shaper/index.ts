export { LinkShaper, type LinkCounters } from './shaper';
export { constantShape, shapeOf, type ShapeSpec } from './shape-spec';
