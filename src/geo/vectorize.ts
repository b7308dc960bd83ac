// Masks to building polygons: trace (trace.ts), simplify without breaking topology and check
// validity (simplify.ts), optionally square the corners (regularize.ts), drop small ones, and
// georeference through a geotransform or a slippy-map tile. Each step falls back to the previous
// one's polygon when its result is not valid, so what comes out always passes jsts' IsValidOp.
//
// The connectivity defaults to 4 as in metrics.connectedComponents (objectScore's objects),
// rasterio's features.shapes and gdal_polygonize: pixels meeting only at a corner are separate
// buildings, and since a valid polygon's interior is connected, each 4-connected component is
// exactly one polygon. Under 8, a component joined at corners is a MultiPolygon of its
// 4-connected parts.

import { checkMask } from '../metrics/components.js';
import { checkInt, invalidParameterError, is, outOfRangeError, readOptions } from '../validate.js';
import { isLonLat, normalizeCrs, reprojector } from './crs.js';
import type { Polygon, Ring } from './geojson.js';
import { rasterize } from './rasterize.js';
import { type RegularizeOptions, regularizePolygon } from './regularize.js';
import { makeValid, polygonIoU, simplifyPolygons, validityError } from './simplify.js';
import { checkTile, type TileId, tileTransform } from './tiles.js';
import { traceMask } from './trace.js';
import { applyTransform, checkTransform, type GeoTransform } from './transform.js';

/** Options of `maskToPolygons`. */
export interface MaskToPolygonsOptions {
  /** Raster width in pixels. */
  width: number;
  /** Raster height in pixels. */
  height: number;
  /** 4 (default): pixels meeting only at a corner are separate polygons; 8: one MultiPolygon. */
  connectivity?: 4 | 8;
  /** Douglas-Peucker tolerance that keeps topology (jsts' TopologyPreservingSimplifier), in `units`; default 0: exact pixel outlines. */
  simplify?: number;
  /** Objects whose exact outline (their pixels) has a smaller area, in `units` squared, are dropped first (default 0). */
  minArea?: number;
  /** Units of simplify and minArea: 'pixels' (default) or 'metres' (needs a transform or a tile; ground metres, also for Web Mercator and lon/lat). */
  units?: 'pixels' | 'metres';
  /** Square building corners (true, or options); outlines that cannot be squared validly stay as simplified. Default false. */
  regularize?: boolean | RegularizeOptions;
  /** GDAL-order geotransform: output in its CRS's coordinates instead of pixels. */
  transform?: GeoTransform;
  /** The CRS of `transform` (an EPSG code or name): makes areas square metres. */
  crs?: string | number;
  /** A slippy-map tile the mask covers (width = height = its size): sets transform and crs (EPSG:3857). */
  tile?: TileId;
  /** A width*height probability raster (0..1 floats, or 0..255 bytes): each polygon gets the mean inside as `score`. */
  probabilities?: Float32Array | Float64Array | Uint8Array;
}

/** One object of the mask as polygons. */
export interface MaskPolygon {
  /** Its outline: one polygon (outer ring, then holes; rings closed, outer rings with a positive shoelace sum, holes negative); under 8-connectivity one per 4-connected part. In map coordinates with a transform or tile, else pixels. */
  parts: Polygon[];
  /** Its area: square metres with a CRS (geodesic for lon/lat and Web Mercator), square map units with a transform alone, else pixels. */
  area: number;
  /** The pixels of its connected component. */
  pixels: number;
  /** Mean probability over those pixels, when `probabilities` is given. */
  score?: number;
}

const KEYS = ['width', 'height', 'connectivity', 'simplify', 'minArea', 'units', 'regularize', 'transform', 'crs', 'tile', 'probabilities'];
const EARTH_RADIUS = 6378137;

/** Planar area of a ring (positive when its shoelace sum is). */
function planarRingArea(ring: Ring): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) sum += ring[j]![0] * ring[i]![1] - ring[i]![0] * ring[j]![1];
  return sum / 2;
}

/** Area of a lon/lat ring on the sphere of radius 6378137 m (as @turf/area computes it), absolute. */
function sphericalRingArea(ring: Ring): number {
  const n = ring.length;
  if (n < 3) return 0;
  const rad = Math.PI / 180;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const lower = ring[i]!;
    const middle = ring[(i + 1) % n]!;
    const upper = ring[(i + 2) % n]!;
    total += (upper[0] - lower[0]) * rad * Math.sin(middle[1] * rad);
  }
  return Math.abs((total * EARTH_RADIUS * EARTH_RADIUS) / 2);
}

/**
 * Area of polygons (outer rings minus holes): without a CRS planar in the coordinates' units; in
 * a lon/lat CRS or Web Mercator, square metres on the sphere (Web Mercator's own square metres
 * grow as 1/cos^2 of the latitude); in another projected CRS, planar in its units (metres for the
 * UTM zones).
 */
export function polygonArea(polygons: Polygon | readonly Polygon[], crs?: string | number): number {
  const list = (Array.isArray(polygons[0]?.[0]?.[0]) ? polygons : [polygons]) as Polygon[];
  let geodesic: ((ring: Ring) => number) | null = null;
  if (crs !== undefined) {
    const c = normalizeCrs(crs);
    if (isLonLat(c)) geodesic = sphericalRingArea;
    else if (c === 'EPSG:3857') {
      const toLonLat = reprojector(c, 'EPSG:4326');
      geodesic = (ring) => sphericalRingArea(ring.map((p) => toLonLat(p[0], p[1])));
    }
  }
  let area = 0;
  for (const polygon of list) {
    polygon.forEach((ring, r) => {
      const a = geodesic ? geodesic(ring) : Math.abs(planarRingArea(ring));
      area += r === 0 ? a : -a;
    });
  }
  return area;
}

/** @internal Shared with the strip-by-strip polygonizer (polygonize-steps.ts). */
export function mapPolygon(polygon: Polygon, fn: (x: number, y: number) => [number, number]): Polygon {
  return polygon.map((ring) => ring.map((p) => fn(p[0], p[1])));
}

/** Outer rings with a positive shoelace sum, holes negative: RFC 7946's rule once y points north. */
export function orientPolygon(polygon: Polygon): Polygon {
  return polygon.map((ring, r) => {
    const positive = planarRingArea(ring) > 0;
    return positive === (r === 0) ? ring : [...ring].reverse();
  });
}

/** @internal IoU of two pixel-space polygons counted over the pixels each burns (pixel centres inside). */
export function rasterIoU(a: Polygon, b: Polygon): number {
  let minx = Infinity;
  let miny = Infinity;
  let maxx = -Infinity;
  let maxy = -Infinity;
  for (const ring of [...a, ...b]) {
    for (const [x, y] of ring) {
      minx = Math.min(minx, x);
      miny = Math.min(miny, y);
      maxx = Math.max(maxx, x);
      maxy = Math.max(maxy, y);
    }
  }
  const x0 = Math.floor(minx);
  const y0 = Math.floor(miny);
  const width = Math.ceil(maxx) - x0;
  const height = Math.ceil(maxy) - y0;
  const shift = (x: number, y: number): [number, number] => [x - x0, y - y0];
  const ma = rasterize([mapPolygon(a, shift)], { width, height });
  const mb = rasterize([mapPolygon(b, shift)], { width, height });
  let inter = 0;
  let union = 0;
  for (let i = 0; i < ma.length; i++) {
    inter += ma[i]! & mb[i]!;
    union += ma[i]! | mb[i]!;
  }
  return union === 0 ? 1 : inter / union;
}

/** The probability raster scaled to 0..1 reads. */
function readScore(where: string, v: unknown, n: number): ((i: number) => number) | null {
  if (v === undefined) return null;
  if (!(v instanceof Float32Array || v instanceof Float64Array || v instanceof Uint8Array))
    throw invalidParameterError(where, 'probabilities', 'a Float32Array, Float64Array or Uint8Array', v);
  if (v.length !== n) throw outOfRangeError(where, 'probabilities', `an array of width * height = ${n} values`, v);
  const p = v;
  return p instanceof Uint8Array ? (i) => p[i]! / 255 : (i) => p[i]!;
}

/**
 * The objects of a binary mask (width * height bytes, row-major, nonzero = object) as polygons,
 * one `MaskPolygon` per connected component in raster order of its first pixel (the order of
 * metrics.connectedComponents), traced along pixel edges: without simplification, rasterising
 * the polygons with `rasterize` gives back the mask exactly. Every polygon is valid by jsts'
 * IsValidOp (a step whose result is not falls back to the previous step's polygon).
 */
export function maskToPolygons(mask: Uint8Array, options: MaskToPolygonsOptions): MaskPolygon[] {
  const where = 'maskToPolygons';
  if (!is.object(options)) throw invalidParameterError(where, 'options', 'an object with width and height', options);
  const o = readOptions(where, options, KEYS);
  const width = checkInt(where, 'width', options.width, { min: 0 });
  const height = checkInt(where, 'height', options.height, { min: 0 });
  checkMask(where, 'mask', mask, width, height);
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
  let regularizeOptions: Required<RegularizeOptions> | null = null;
  if (regularizeValue !== false) {
    const r = is.object(regularizeValue) ? o.nested<RegularizeOptions>('regularize', ['minIoU', 'minEdge']) : null;
    regularizeOptions = {
      minIoU: r ? r.number('minIoU', 0.85, { min: 0, max: 1 }) : 0.85,
      minEdge: r ? r.number('minEdge', 1.5, { min: 0 }) : 1.5,
    };
  }
  let transform: GeoTransform | null = o.has('transform') ? checkTransform(where, 'transform', options.transform) : null;
  let crs: string | null = o.has('crs')
    ? normalizeCrs(o.custom<string | number>('crs', undefined, (v) => is.string(v) || is.number(v), 'an EPSG code or a CRS name'))
    : null;
  if (o.has('tile')) {
    const tile = checkTile(where, options.tile);
    if (transform !== null) throw new TypeError(`${where}: give transform or tile, not both`);
    if (crs !== null && crs !== 'EPSG:3857') throw invalidParameterError(where, 'crs', "'EPSG:3857' (or nothing) with a tile", options.crs);
    if (width !== height) throw outOfRangeError(where, 'width', `the height (${height}): a tile is square`, width);
    transform = tileTransform(tile, width);
    crs = 'EPSG:3857';
  }
  if (units === 'metres' && transform === null) throw new TypeError(`${where}: units 'metres' needs a transform or a tile`);
  const score = readScore(where, options.probabilities, width * height);

  const traced = traceMask(mask, width, height, eight);
  const toMap = transform ? (x: number, y: number) => applyTransform(transform, x, y) : null;
  const areaOf = (parts: Polygon[]): number => polygonArea(toMap ? parts.map((p) => mapPolygon(p, toMap)) : parts, crs ?? undefined);
  // Metres per pixel at the raster's centre, for tolerances in metres.
  let pixelSize = 1;
  if (units === 'metres' && width > 0 && height > 0) {
    const cx = Math.floor(width / 2);
    const cy = Math.floor(height / 2);
    pixelSize = Math.sqrt(
      areaOf([
        [
          [
            [cx, cy],
            [cx + 1, cy],
            [cx + 1, cy + 1],
            [cx, cy + 1],
            [cx, cy],
          ],
        ],
      ]),
    );
  }
  const tolerancePx = tolerance / pixelSize;

  // Small objects go first, by the area of their exact outline (their pixels), so that no time is
  // spent simplifying what is dropped.
  const components = traced.components.filter((c) => minArea === 0 || (units === 'pixels' ? c.pixels : areaOf(c.parts)) >= minArea);
  const exact = components.map((c) => c.parts);
  let shapes = exact;
  // Which shapes passed IsValidOp already, so the last check does not repeat it.
  const checked = new Uint8Array(exact.length);
  if (tolerancePx > 0) {
    const simplified = simplifyPolygons(exact.flat(), tolerancePx);
    let k = 0;
    shapes = exact.map((parts, i) => {
      const mine = parts.flatMap(() => simplified[k++]!);
      if (mine.length !== parts.length || validityError(mine) !== null) return parts;
      checked[i] = 1;
      return mine;
    });
  }
  if (regularizeOptions) {
    // A staircase has no wall longer than a pixel run: squaring starts from a simplified outline,
    // is judged by its IoU with it, then by its IoU with the exact outline: by jsts' overlay for
    // small outlines, where pixels would round it, and counted in pixels for large ones, where an
    // overlay with a staircase of hundreds of vertices costs jsts tens of milliseconds.
    const base = tolerancePx >= 1 ? shapes : shapes.map((parts) => simplifyPolygons(parts, 1).flat());
    shapes = shapes.map((parts, i) => {
      const source = base[i]!.length === parts.length ? base[i]! : parts;
      const squared = source.map((p, j) => {
        const square = regularizePolygon(p, undefined, regularizeOptions);
        if (square === null) return parts[j]!;
        const truth = exact[i]![j]!;
        const vertices = truth.reduce((n, ring) => n + ring.length, 0);
        const iou = vertices <= 200 ? polygonIoU(square, truth) : rasterIoU(square, truth);
        return iou >= regularizeOptions.minIoU ? square : parts[j]!;
      });
      if (validityError(squared) !== null) return parts;
      checked[i] = 1;
      return squared;
    });
  }

  let sums: Float64Array | null = null;
  if (score) {
    sums = new Float64Array(traced.components.length + 1);
    for (let p = 0; p < traced.labels.length; p++) sums[traced.labels[p]!]! += score(p);
  }
  const out: MaskPolygon[] = [];
  components.forEach((component, i) => {
    let parts = shapes[i]!;
    if (!checked[i] && validityError(parts) !== null) parts = parts.flatMap(makeValid);
    if (parts.length === 0) return;
    const area = areaOf(parts);
    const polygon: MaskPolygon = {
      parts: parts.map((p) => orientPolygon(toMap ? mapPolygon(p, toMap) : p)),
      area,
      pixels: component.pixels,
    };
    if (sums) polygon.score = sums[component.label]! / component.pixels;
    out.push(polygon);
  });
  return out;
}
