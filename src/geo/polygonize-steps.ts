// What maskToPolygons does to each traced object, for polygonizers that see one object at a
// time (polygonize-rows.ts): the same options read with the same rules, and the same steps in
// the same order (minimum area, simplification, squaring, validity, area, map coordinates), so
// that an object comes out identical to the whole-mask path. vectorize.ts keeps these steps
// inline over all objects at once; the row polygonizer's property tests compare the two paths
// polygon for polygon, so a change there that is not made here fails those tests.
//
// Simplification is the one step that is not per object: maskToPolygons simplifies all objects
// in one jsts TopologyPreservingSimplifier run, where each ring's Douglas-Peucker is refused any
// shortcut that would cross a segment of another ring, as that ring stands at that moment: already
// simplified if it comes earlier in the collection, as traced if later. `simplifyAgainst` replays
// one object's share of that run, given those neighbouring rings in that state.

import type Coordinate from 'jsts/org/locationtech/jts/geom/Coordinate.js';
import LineSegment from 'jsts/org/locationtech/jts/geom/LineSegment.js';
import LineSegmentIndex from 'jsts/org/locationtech/jts/simplify/LineSegmentIndex.js';
import TaggedLineString from 'jsts/org/locationtech/jts/simplify/TaggedLineString.js';
import TaggedLineStringSimplifier from 'jsts/org/locationtech/jts/simplify/TaggedLineStringSimplifier.js';
import { invalidParameterError, is, type OptionReader, outOfRangeError } from '../validate.js';
import { normalizeCrs } from './crs.js';
import type { Polygon, Ring } from './geojson.js';
import { toJsts } from './jsts-geometry.js';
import { type RegularizeOptions, regularizePolygon } from './regularize.js';
import { makeValid, polygonIoU, simplifyPolygons, validityError } from './simplify.js';
import { checkTile, tileTransform } from './tiles.js';
import { applyTransform, checkTransform, type GeoTransform } from './transform.js';
import { type MaskPolygon, mapPolygon, orientPolygon, polygonArea, rasterIoU } from './vectorize.js';

/** The polygon options of maskToPolygons, read. */
export interface PolygonSteps {
  eight: boolean;
  /** The simplification tolerance in pixels (0: none). */
  tolerance: number;
  /** The least area kept, in `units` squared (0: all). */
  minArea: number;
  units: 'pixels' | 'metres';
  regularize: Required<RegularizeOptions> | null;
  /** The pixel-to-map transform areas (and metres) are measured through; null: pixels. */
  transform: GeoTransform | null;
  crs: string | null;
  /** Whether the output polygons are in map coordinates (maskToPolygons' rule) or stay in pixels. */
  mapOutput: boolean;
}

/** The option keys `readPolygonSteps` reads. */
export const POLYGON_KEYS = ['connectivity', 'simplify', 'minArea', 'units', 'regularize', 'transform', 'crs', 'tile'];

/**
 * Reads maskToPolygons' polygon options from `o` with its rules and messages. `georef` is the
 * transform and CRS of a raster whose polygons stay in pixel coordinates (polygonizeRaster).
 */
export function readPolygonSteps(
  o: OptionReader,
  width: number,
  height: number,
  georef?: { transform: GeoTransform | null; crs: string | null },
): PolygonSteps {
  const where = o.where;
  const eight = o.choice('connectivity', [4, 8] as const, 4) === 8;
  const tolerance = o.number('simplify', 0, { min: 0 });
  const minArea = o.number('minArea', 0, { min: 0 });
  const units = o.choice('units', ['pixels', 'metres'] as const, 'pixels');
  const regularizeValue = o.custom<boolean | RegularizeOptions>(
    'regularize',
    false,
    (v) => typeof v === 'boolean' || is.object(v),
    'true, false or options { minIoU, minEdge }',
  );
  let regularize: Required<RegularizeOptions> | null = null;
  if (regularizeValue !== false) {
    const r = is.object(regularizeValue) ? o.nested<RegularizeOptions>('regularize', ['minIoU', 'minEdge']) : null;
    regularize = {
      minIoU: r ? r.number('minIoU', 0.85, { min: 0, max: 1 }) : 0.85,
      minEdge: r ? r.number('minEdge', 1.5, { min: 0 }) : 1.5,
    };
  }
  let transform: GeoTransform | null = o.has('transform') ? checkTransform(where, 'transform', o.get('transform')) : null;
  let crs: string | null = o.has('crs')
    ? normalizeCrs(o.custom<string | number>('crs', undefined, (v) => is.string(v) || is.number(v), 'an EPSG code or a CRS name'))
    : null;
  if (o.has('tile')) {
    const tile = checkTile(where, o.get('tile'));
    if (transform !== null) throw new TypeError(`${where}: give transform or tile, not both`);
    if (crs !== null && crs !== 'EPSG:3857')
      throw invalidParameterError(where, 'crs', "'EPSG:3857' (or nothing) with a tile", o.get('crs'));
    if (width !== height) throw outOfRangeError(where, 'width', `the height (${height}): a tile is square`, width);
    transform = tileTransform(tile, width);
    crs = 'EPSG:3857';
  }
  const mapOutput = georef === undefined;
  if (georef) ({ transform, crs } = georef);
  if (units === 'metres' && transform === null)
    throw new TypeError(`${where}: units 'metres' needs ${mapOutput ? 'a transform or a tile' : 'a georeferenced raster'}`);
  const steps: PolygonSteps = { eight, tolerance, minArea, units, regularize, transform, crs, mapOutput };
  // Metres per pixel at the raster's centre, for tolerances in metres.
  if (units === 'metres' && width > 0 && height > 0) {
    const cx = Math.floor(width / 2);
    const cy = Math.floor(height / 2);
    const pixel: Ring = [
      [cx, cy],
      [cx + 1, cy],
      [cx + 1, cy + 1],
      [cx, cy + 1],
      [cx, cy],
    ];
    steps.tolerance = tolerance / Math.sqrt(areaOf(steps, [[pixel]]));
  }
  return steps;
}

/** The area maskToPolygons gives pixel-space parts: through the transform and in the CRS when there are. */
function areaOf(steps: PolygonSteps, parts: Polygon[]): number {
  const t = steps.transform;
  return polygonArea(t ? parts.map((p) => mapPolygon(p, (x, y) => applyTransform(t, x, y))) : parts, steps.crs ?? undefined);
}

/** Whether an object passes `minArea`, judged on its exact outline (its pixels). */
export function keepObject(steps: PolygonSteps, parts: Polygon[], pixels: number): boolean {
  return steps.minArea === 0 || (steps.units === 'pixels' ? pixels : areaOf(steps, parts)) >= steps.minArea;
}

/** An object's simplified polygons (as maskToPolygons' collection run yields them) and its rings as they end that run. */
export interface Simplified {
  polygons: Polygon[];
  /** Each ring's positions after simplification, flat x, y pairs: what later objects must not cross. */
  rings: Float64Array[];
}

/** A ring's positions as flat x, y pairs. */
export function flatRing(ring: Ring): Float64Array {
  const out = new Float64Array(ring.length * 2);
  ring.forEach((p, i) => {
    out[2 * i] = p[0];
    out[2 * i + 1] = p[1];
  });
  return out;
}

/**
 * One object's share of maskToPolygons' simplification run: its rings in collection order
 * (polygon by polygon, shell then holes), each refused a shortcut with an interior crossing of
 * its own object's rings or of `obstacles`: the near rings of the other objects, simplified for
 * those earlier in the collection, as traced for those later.
 */
export function simplifyAgainst(parts: Polygon[], obstacles: readonly Float64Array[], tolerance: number): Simplified {
  const inputIndex = new LineSegmentIndex();
  const outputIndex = new LineSegmentIndex();
  // Another line's segments refuse a crossing the same way from either index; the output index
  // never asks whose a segment is.
  for (const xy of obstacles) {
    for (let i = 0; i + 3 < xy.length; i += 2) outputIndex.add(new LineSegment(xy[i]!, xy[i + 1]!, xy[i + 2]!, xy[i + 3]!));
  }
  const lines: (typeof TaggedLineString.prototype)[][] = parts.map((p) => {
    const polygon = toJsts(p);
    const rings = [polygon.getExteriorRing()];
    for (let i = 0; i < polygon.getNumInteriorRing(); i++) rings.push(polygon.getInteriorRingN(i));
    return rings.map((r) => new TaggedLineString(r, 4));
  });
  for (const line of lines.flat()) inputIndex.add(line);
  for (const line of lines.flat()) {
    const simplifier = new TaggedLineStringSimplifier(inputIndex, outputIndex);
    simplifier.setDistanceTolerance(tolerance);
    simplifier.simplify(line);
  }
  const rings: Float64Array[] = [];
  const polygons: Polygon[] = [];
  for (const polygonLines of lines) {
    const polygon = polygonLines.map((line) => (line.getResultCoordinates() as Coordinate[]).map((c) => [c.x, c.y] as [number, number]));
    for (const ring of polygon) rings.push(flatRing(ring));
    // jsts builds no polygon when a ring comes out as a line (fewer than 4 positions).
    if (polygon.every((ring) => ring.length >= 4)) polygons.push(polygon);
  }
  return { polygons, rings };
}

/**
 * The rest of maskToPolygons for one kept object: its simplified polygons checked (falling back
 * to the exact outline), squared when asked, made valid, measured and mapped. Null when nothing
 * valid is left.
 */
export function finishObject(steps: PolygonSteps, exact: Polygon[], pixels: number, simplified: Polygon[] | null): MaskPolygon | null {
  let shape = exact;
  // Whether the shape passed IsValidOp already, so the last check does not repeat it.
  let checked = false;
  if (simplified) {
    if (simplified.length === exact.length && validityError(simplified) === null) {
      shape = simplified;
      checked = true;
    }
  }
  const reg = steps.regularize;
  if (reg) {
    // A staircase has no wall longer than a pixel run: squaring starts from a simplified outline.
    const base = steps.tolerance >= 1 ? shape : simplifyPolygons(shape, 1).flat();
    const source = base.length === shape.length ? base : shape;
    const parts = shape;
    const squared = source.map((p, j) => {
      const square = regularizePolygon(p, undefined, reg);
      if (square === null) return parts[j]!;
      const truth = exact[j]!;
      const vertices = truth.reduce((n, ring) => n + ring.length, 0);
      const iou = vertices <= 200 ? polygonIoU(square, truth) : rasterIoU(square, truth);
      return iou >= reg.minIoU ? square : parts[j]!;
    });
    if (validityError(squared) === null) {
      shape = squared;
      checked = true;
    }
  }
  if (!checked && validityError(shape) !== null) shape = shape.flatMap(makeValid);
  if (shape.length === 0) return null;
  const t = steps.mapOutput ? steps.transform : null;
  return {
    parts: shape.map((p) => orientPolygon(t ? mapPolygon(p, (x, y) => applyTransform(t, x, y)) : p)),
    area: areaOf(steps, shape),
    pixels,
  };
}
