// Polygons through jsts (JTS): the validity test OGC's rules define (IsValidOp: rings simple and
// closed, holes inside their shell and not nested, interiors connected, parts of a MultiPolygon
// not overlapping), simplification that keeps topology (TopologyPreservingSimplifier: no ring
// crosses itself or another, holes stay inside), and areas of overlap for IoU. The cheaper
// polygonProblem in validity.ts guards label reading; this is the full test every traced output
// passes.

import BufferOp from 'jsts/org/locationtech/jts/operation/buffer/BufferOp.js';
import OverlayOp from 'jsts/org/locationtech/jts/operation/overlay/OverlayOp.js';
import IsValidOp from 'jsts/org/locationtech/jts/operation/valid/IsValidOp.js';
import TopologyPreservingSimplifier from 'jsts/org/locationtech/jts/simplify/TopologyPreservingSimplifier.js';
import { checkFinite, invalidParameterError } from '../validate.js';
import type { Polygon } from './geojson.js';
import { repairPolygon } from './validity.js';
import { factory, fromJsts, toJsts, toJstsMulti } from './jsts-geometry.js';

/** Structural checks jsts would otherwise answer with an exception from deep inside. */
function structureProblem(polygon: Polygon): string | null {
  if (!Array.isArray(polygon) || polygon.length === 0) return 'a polygon must have at least an outer ring';
  for (let r = 0; r < polygon.length; r++) {
    const ring = polygon[r];
    if (!Array.isArray(ring)) return `ring ${r} is not an array of positions`;
    for (const p of ring) {
      if (!Array.isArray(p) || !Number.isFinite(p[0]) || !Number.isFinite(p[1]))
        return `ring ${r} has a position that is not [x, y] with finite numbers`;
    }
    const closed = ring.length > 0 && ring[0]![0] === ring[ring.length - 1]![0] && ring[0]![1] === ring[ring.length - 1]![1];
    if (ring.length + (closed ? 0 : 1) < 4) return `ring ${r} has fewer than 3 distinct positions`;
  }
  return null;
}

/**
 * Why a polygon (or a MultiPolygon given as an array of polygons) is not valid by OGC's rules, as
 * jsts' IsValidOp words it with the place ('Self-intersection at 1, 1'), or null when it is valid.
 * A bow-tie ring, a hole outside its shell, a ring touching itself, parts overlapping: all invalid.
 */
export function validityError(polygon: Polygon | readonly Polygon[]): string | null {
  const multi = Array.isArray(polygon[0]?.[0]?.[0]);
  const parts = (multi ? polygon : [polygon]) as Polygon[];
  if (parts.length === 0) return null;
  for (const p of parts) {
    const problem = structureProblem(p);
    if (problem !== null) return problem;
  }
  const geometry = multi ? toJstsMulti(parts) : toJsts(parts[0]!);
  const op = new IsValidOp(geometry);
  if (op.isValid()) return null;
  const error = op.getValidationError();
  const at = error?.getCoordinate();
  return `${error?.getMessage() ?? 'invalid'}${at ? ` at ${at.x}, ${at.y}` : ''}`;
}

/** True when `validityError` finds nothing. */
export function isValidPolygon(polygon: Polygon | readonly Polygon[]): boolean {
  return validityError(polygon) === null;
}

/**
 * Valid polygons covering what an invalid one means: polyclip-ts' union of its rings (which keeps
 * both lobes of a bow-tie, where buffer(0) drops one), else jsts' buffer(0); the result is
 * checked again and whatever is still invalid is dropped.
 */
export function makeValid(polygon: Polygon): Polygon[] {
  if (validityError(polygon) === null) return [polygon];
  let parts: Polygon[] = [];
  try {
    parts = repairPolygon(polygon);
  } catch {
    // polyclip-ts gives up on some degenerate input; buffer(0) is the fallback.
  }
  if (parts.length === 0 || validityError(parts) !== null) {
    try {
      parts = fromJsts(BufferOp.bufferOp(toJsts(polygon), 0));
    } catch {
      parts = [];
    }
  }
  return parts.filter((p) => validityError(p) === null);
}

/**
 * Simplifies polygons together with jsts' TopologyPreservingSimplifier (Douglas-Peucker that
 * never lets a ring cross itself or another ring of the input, so neighbouring polygons stay
 * apart and holes stay inside): `tolerance` is the largest distance a vertex may move, in the
 * polygons' units. Returns one array of polygons per input polygon, in order.
 */
export function simplifyPolygons(polygons: readonly Polygon[], tolerance: number): Polygon[][] {
  checkFinite('simplifyPolygons', 'tolerance', tolerance, { min: 0 });
  if (!Array.isArray(polygons)) throw invalidParameterError('simplifyPolygons', 'polygons', 'an array of polygons', polygons);
  if (polygons.length === 0) return [];
  if (tolerance === 0) return polygons.map((p) => [p]);
  // One collection, so the simplifier sees every ring at once and keeps them from crossing.
  const collection = factory.createGeometryCollection(polygons.map(toJsts));
  const simplified = TopologyPreservingSimplifier.simplify(collection, tolerance);
  const out: Polygon[][] = [];
  for (let i = 0; i < simplified.getNumGeometries(); i++) out.push(fromJsts(simplified.getGeometryN(i)));
  return out;
}

/** Area of a polygon (or of polygons) in its units, holes subtracted. */
export function jstsArea(polygon: Polygon | readonly Polygon[]): number {
  const multi = Array.isArray(polygon[0]?.[0]?.[0]);
  return multi ? toJstsMulti(polygon as Polygon[]).getArea() : toJsts(polygon as Polygon).getArea();
}

/** Intersection over union of two polygonal shapes (each a polygon or an array of polygons); NaN when jsts' overlay fails. */
export function polygonIoU(a: Polygon | readonly Polygon[], b: Polygon | readonly Polygon[]): number {
  const ga = Array.isArray(a[0]?.[0]?.[0]) ? toJstsMulti(a as Polygon[]) : toJsts(a as Polygon);
  const gb = Array.isArray(b[0]?.[0]?.[0]) ? toJstsMulti(b as Polygon[]) : toJsts(b as Polygon);
  try {
    const inter = OverlayOp.intersection(ga, gb).getArea();
    const union = ga.getArea() + gb.getArea() - inter;
    return union > 0 ? inter / union : 1;
  } catch {
    return Number.NaN;
  }
}
