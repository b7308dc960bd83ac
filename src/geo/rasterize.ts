// Burning polygons into a mask with GDAL's rule (gdal_rasterize, rasterio.features.rasterize),
// so that masks made here agree pixel for pixel with those made by the tools labels come from.
//
// Each polygon is filled on its own by a scanline pass through the pixel-centre rows (y = r + 0.5):
// every non-horizontal edge of every ring crosses the row at some x, counted on [y_top, y_bottom)
// so that a vertex on the row counts once; the crossings are rounded to pixel boundaries
// floor(x + 0.5) and sorted; columns between crossings 0-1, 2-3, ... burn (even-odd, so holes
// cut out). A centre exactly on a left edge is outside, one exactly on a right edge inside, and a
// horizontal edge lying exactly on a centre row burns when it runs right to left, as in GDAL's
// GDALdllImageFilledPolygon. Edges are sorted by their top and kept in an active list, so the
// cost is the rows a polygon spans times its active edges, never a per-pixel point-in-polygon.
// `allTouched` adds every pixel an edge passes through (GDAL's GDALdllImageLineAllTouched in its
// intersect-only mode: an edge lying exactly on a pixel boundary burns no pixel outside).

import { checkBool, checkInt, invalidParameterError, is, outOfRangeError, readOptions } from '../validate.js';
import type { Polygon } from './geojson.js';
import { checkTransform, type GeoTransform } from './transform.js';

/** Options of `rasterize`. */
export interface RasterizeOptions {
  /** Raster width in pixels. */
  width: number;
  /** Raster height in pixels. */
  height: number;
  /** Burn every pixel the polygon's area or boundary touches (GDAL's -at); default false: only pixels whose centre is inside. */
  allTouched?: boolean;
  /** The value burnt, 0..255 (default 1). */
  burn?: number;
  /** A width*height row-major mask to burn onto (it is not cleared); default a new zeroed one. */
  out?: Uint8Array;
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
/** Edges whose two ends lie this close to a pixel boundary lie on it (GDAL's EPSILON_INTERSECT_ONLY). */
const ON_BOUNDARY = 1e-4;
/** GDAL walks edges within this many pixels of vertical or horizontal as one column or row. */
const AXIS_EPS = 0.01;

/** C's `(int) v` for a rounded double, kept inside int32 so huge coordinates cannot wrap. */
function toInt(v: number): number {
  return Math.max(INT_MIN, Math.min(INT_MAX, v));
}

/** Buffers reused across polygons: the polygon's vertices, its edges, the active list. */
class Scratch {
  xs = new Float64Array(256);
  ys = new Float64Array(256);
  n = 0;
  ringStart: number[] = [];
  ringSize: number[] = [];
  top = new Float64Array(256);
  bottom = new Float64Array(256);
  x1 = new Float64Array(256);
  dx = new Float64Array(256);
  dy = new Float64Array(256);
  order = new Uint32Array(256);
  active = new Uint32Array(256);
  ints = new Int32Array(256);

  reserve(n: number): void {
    if (n <= this.xs.length) return;
    const size = Math.max(n, this.xs.length * 2);
    const grow = <T extends Float64Array | Uint32Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.xs = grow(this.xs);
    this.ys = grow(this.ys);
    this.top = new Float64Array(size);
    this.bottom = new Float64Array(size);
    this.x1 = new Float64Array(size);
    this.dx = new Float64Array(size);
    this.dy = new Float64Array(size);
    this.order = new Uint32Array(size);
    this.active = new Uint32Array(size);
    this.ints = new Int32Array(size);
  }

  /** Flattens polygon `p` into xs/ys, checking its structure; returns false when it has no vertex. */
  load(polygon: unknown, p: number): boolean {
    if (!Array.isArray(polygon)) throw invalidParameterError('rasterize', `polygons[${p}]`, 'a polygon (an array of rings)', polygon);
    this.n = 0;
    this.ringStart.length = 0;
    this.ringSize.length = 0;
    for (let r = 0; r < polygon.length; r++) {
      const ring = polygon[r];
      if (!Array.isArray(ring) || typeof ring[0] === 'number') {
        // [x, y] where a ring belongs: a ring passed as a polygon.
        throw invalidParameterError(
          'rasterize',
          `polygons[${p}][${r}]`,
          'a ring (an array of [x, y]; a polygon is an array of rings)',
          ring,
        );
      }
      if (ring.length === 0) continue;
      this.reserve(this.n + ring.length);
      this.ringStart.push(this.n);
      for (let k = 0; k < ring.length; k++) {
        const q = ring[k];
        const x = Array.isArray(q) ? q[0] : undefined;
        const y = Array.isArray(q) ? q[1] : undefined;
        if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) {
          const name = `polygons[${p}][${r}][${k}]`;
          if (Array.isArray(q) && typeof x === 'number' && typeof y === 'number')
            throw outOfRangeError('rasterize', name, '[x, y] with finite numbers', q);
          throw invalidParameterError('rasterize', name, '[x, y] with finite numbers', q);
        }
        this.xs[this.n] = x;
        this.ys[this.n] = y;
        this.n++;
      }
      this.ringSize.push(ring.length);
    }
    return this.n > 0;
  }
}

/** Burns columns [x0, x1] (inclusive, clipped to the raster) of one row. */
function burnSpan(out: Uint8Array, width: number, row: number, x0: number, x1: number, burn: number): void {
  const a = Math.max(x0, 0);
  const b = Math.min(x1, width - 1);
  if (b < a) return;
  const start = row * width + a;
  const end = row * width + b + 1;
  // TypedArray#fill costs more to call than a short loop costs to run; building rows are short.
  if (end - start > 48) out.fill(burn, start, end);
  else for (let i = start; i < end; i++) out[i] = burn;
}

function sortInts(a: Int32Array, n: number): void {
  if (n > 24) {
    a.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

/** Twice the signed area of ring [start, end) in pixel coordinates: positive when clockwise on screen. */
function shoelace(xs: Float64Array, ys: Float64Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start, j = end - 1; i < end; j = i++) sum += xs[j]! * ys[i]! - xs[i]! * ys[j]!;
  return sum;
}

/** The pixels whose centres are inside the polygon (GDAL's GDALdllImageFilledPolygon). */
function fillPolygon(s: Scratch, width: number, height: number, out: Uint8Array, burn: number): void {
  const { xs, ys, n } = s;
  let dminy = ys[0]!;
  let dmaxy = ys[0]!;
  for (let i = 1; i < n; i++) {
    const y = ys[i]!;
    if (y < dminy) dminy = y;
    if (y > dmaxy) dmaxy = y;
  }
  const miny = Math.max(0, toInt(Math.trunc(dminy)));
  const maxy = Math.min(height - 1, toInt(Math.trunc(dmaxy)));
  if (miny > maxy) return;
  const { top, bottom, x1, dx, dy, order, active, ints } = s;
  let edges = 0;
  for (let r = 0; r < s.ringStart.length; r++) {
    const start = s.ringStart[r]!;
    const end = start + s.ringSize[r]!;
    // GDAL turns every ring clockwise (in world coordinates, y up) before burning, which decides
    // which horizontal edges count as "bottom" ones. For a north-up raster that is clockwise on
    // screen: a positive shoelace sum in pixel coordinates (y down).
    const reversed = shoelace(xs, ys, start, end) < 0;
    for (let i = start; i < end; i++) {
      // Ring edges in GDAL's order: the closing edge (last -> first) comes first.
      const a = i === start ? end - 1 : i - 1;
      const ya = ys[a]!;
      const yb = ys[i]!;
      if (ya < yb) {
        top[edges] = ya;
        bottom[edges] = yb;
        x1[edges] = xs[a]!;
        dx[edges] = xs[i]! - xs[a]!;
        dy[edges] = yb - ya;
        order[edges] = edges;
        edges++;
      } else if (ya > yb) {
        top[edges] = yb;
        bottom[edges] = ya;
        x1[edges] = xs[i]!;
        dx[edges] = xs[a]! - xs[i]!;
        dy[edges] = ya - yb;
        order[edges] = edges;
        edges++;
      } else if (reversed ? xs[i]! > xs[a]! : xs[a]! > xs[i]!) {
        // A horizontal edge running right to left burns on its own when it lies exactly on a
        // centre row; left-to-right ones are left to the crossings of the edges around them.
        const row = ya - 0.5;
        if (row === Math.floor(row) && row >= miny && row <= maxy) {
          const h1 = toInt(Math.floor(Math.min(xs[a]!, xs[i]!) + 0.5));
          const h2 = toInt(Math.floor(Math.max(xs[a]!, xs[i]!) + 0.5));
          if (h1 <= width - 1 && h2 > 0) burnSpan(out, width, row, h1, h2 - 1, burn);
        }
      }
    }
  }
  if (edges === 0) return;
  const sorted = order.subarray(0, edges).sort((p, q) => top[p]! - top[q]!);
  let next = 0;
  let live = 0;
  for (let row = miny; row <= maxy; row++) {
    const yc = row + 0.5;
    while (next < edges && top[sorted[next]!]! <= yc) active[live++] = sorted[next++]!;
    let kept = 0;
    for (let j = 0; j < live; j++) {
      const e = active[j]!;
      if (yc < bottom[e]!) active[kept++] = e;
    }
    live = kept;
    if (live === 0) {
      if (next === edges) break;
      // Jump to the first row the next edge reaches.
      const first = Math.ceil(top[sorted[next]!]! - 0.5) - 1;
      if (first > row) row = Math.min(first, maxy);
      continue;
    }
    for (let j = 0; j < live; j++) {
      const e = active[j]!;
      ints[j] = toInt(Math.floor(((yc - top[e]!) * dx[e]!) / dy[e]! + x1[e]! + 0.5));
    }
    sortInts(ints, live);
    for (let j = 0; j + 1 < live; j += 2) {
      const a = ints[j]!;
      const b = ints[j + 1]!;
      if (a <= width - 1 && b > 0) burnSpan(out, width, row, a, b - 1, burn);
    }
  }
}

function onBoundary(v: number): boolean {
  return Math.abs(v - Math.round(v)) < ON_BOUNDARY;
}

/** Every pixel the edge (x, y) -> (xEnd, yEnd) passes through (one segment of GDAL's GDALdllImageLineAllTouched). */
function walkEdge(x: number, y: number, xEnd: number, yEnd: number, width: number, height: number, out: Uint8Array, burn: number): void {
  if ((y < 0 && yEnd < 0) || (y > height && yEnd > height) || (x < 0 && xEnd < 0) || (x > width && xEnd > width)) return;
  if (x > xEnd) {
    [x, xEnd] = [xEnd, x];
    [y, yEnd] = [yEnd, y];
  }
  if (Math.floor(x) === Math.floor(xEnd) || Math.abs(x - xEnd) < AXIS_EPS) {
    // (Nearly) vertical: one column.
    if (onBoundary(x) && onBoundary(xEnd)) return;
    if (yEnd < y) [y, yEnd] = [yEnd, y];
    const col = Math.floor(xEnd);
    if (col < 0 || col >= width) return;
    const first = Math.max(0, Math.floor(y));
    const last = Math.min(height - 1, Math.floor(yEnd));
    for (let row = first; row <= last; row++) out[row * width + col] = burn;
    return;
  }
  if (Math.floor(y) === Math.floor(yEnd) || Math.abs(y - yEnd) < AXIS_EPS) {
    // (Nearly) horizontal: one row.
    if (onBoundary(y) && onBoundary(yEnd)) return;
    const row = Math.floor(y);
    if (row < 0 || row >= height) return;
    burnSpan(out, width, row, toInt(Math.floor(x)), toInt(Math.floor(xEnd)), burn);
    return;
  }
  // General case: clip to the raster, then step from cell to cell, left to right.
  const slope = (yEnd - y) / (xEnd - x);
  if (xEnd > width) {
    yEnd -= (xEnd - width) * slope;
    xEnd = width;
  }
  if (x < 0) {
    y += (0 - x) * slope;
    x = 0;
  }
  if (yEnd > y) {
    if (y < 0) {
      x += (0 - y) / slope;
      y = 0;
    }
    if (yEnd >= height) xEnd += (yEnd - height) / slope;
  } else {
    if (y >= height) {
      x += (height - y) / slope;
      y = height;
    }
    if (yEnd < 0) xEnd -= (yEnd - 0) / slope;
  }
  if (xEnd > width) xEnd = width;
  while (x >= 0 && x < xEnd) {
    const col = Math.floor(x);
    const row = Math.floor(y);
    if (row >= 0 && row < height) out[row * width + col] = burn;
    else if ((slope > 0 && row >= height) || (slope < 0 && row < 0)) break;
    let stepX = Math.floor(x + 1) - x;
    let stepY = stepX * slope;
    if (Math.floor(y + stepY) === row) {
      x += stepX;
      y += stepY;
    } else if (slope < 0) {
      stepY = row - y;
      if (stepY > -1e-9) stepY = -1e-9;
      stepX = stepY / slope;
      x += stepX;
      y += stepY;
    } else {
      stepY = row + 1 - y;
      if (stepY < 1e-9) stepY = 1e-9;
      stepX = stepY / slope;
      x += stepX;
      y += stepY;
    }
  }
}

function walkEdges(s: Scratch, width: number, height: number, out: Uint8Array, burn: number): void {
  const { xs, ys } = s;
  for (let r = 0; r < s.ringStart.length; r++) {
    const start = s.ringStart[r]!;
    const end = start + s.ringSize[r]!;
    for (let i = start + 1; i < end; i++) walkEdge(xs[i - 1]!, ys[i - 1]!, xs[i]!, ys[i]!, width, height, out, burn);
    // An open ring still has its closing edge.
    const last = end - 1;
    if (last > start && (xs[last] !== xs[start] || ys[last] !== ys[start]))
      walkEdge(xs[last]!, ys[last]!, xs[start]!, ys[start]!, width, height, out, burn);
  }
}

/**
 * Burns polygons given in PIXEL coordinates (x right, y down, (0, 0) the top-left corner of pixel
 * (0, 0)) into a width*height row-major mask, with gdal_rasterize's rule: a pixel burns when its
 * centre is inside the polygon (even-odd over its rings, so holes cut out), or with `allTouched`
 * when the polygon's area or boundary touches it. Each polygon is filled on its own, so overlapping
 * polygons both burn; polygons whose bounding box misses the raster cost one pass over their
 * vertices. Returns `options.out` when given, else a new mask.
 */
export function rasterize(polygons: readonly Polygon[], options: RasterizeOptions): Uint8Array {
  if (!Array.isArray(polygons)) throw invalidParameterError('rasterize', 'polygons', 'an array of polygons', polygons);
  if (!is.object(options)) throw invalidParameterError('rasterize', 'options', 'an object with width and height', options);
  const o = readOptions('rasterize', options, ['width', 'height', 'allTouched', 'burn', 'out']);
  const width = o.int('width');
  const height = o.int('height');
  const allTouched = o.has('allTouched') ? checkBool('rasterize', 'allTouched', o.get('allTouched')) : false;
  const burn = o.has('burn') ? checkInt('rasterize', 'burn', o.get('burn'), { min: 0, max: 255 }) : 1;
  let out = o.get('out') as Uint8Array | undefined;
  if (out === undefined) out = new Uint8Array(width * height);
  else if (!(out instanceof Uint8Array))
    throw invalidParameterError('rasterize', 'out', `a Uint8Array of width*height = ${width * height}`, out);
  else if (out.length !== width * height) throw outOfRangeError('rasterize', 'out.length', `width*height = ${width * height}`, out.length);
  const s = new Scratch();
  for (let p = 0; p < polygons.length; p++) {
    if (!s.load(polygons[p], p)) continue;
    let minx = Infinity;
    let maxx = -Infinity;
    let miny = Infinity;
    let maxy = -Infinity;
    for (let i = 0; i < s.n; i++) {
      const x = s.xs[i]!;
      const y = s.ys[i]!;
      if (x < minx) minx = x;
      if (x > maxx) maxx = x;
      if (y < miny) miny = y;
      if (y > maxy) maxy = y;
    }
    if (maxx < 0 || minx > width || maxy < 0 || miny > height) continue;
    if (allTouched) walkEdges(s, width, height, out, burn);
    fillPolygon(s, width, height, out, burn);
  }
  return out;
}

/** A copy of the polygons with every vertex mapped through `fn` (a reprojection, a transform). */
export function transformPolygons(polygons: readonly Polygon[], fn: (x: number, y: number) => [number, number]): Polygon[] {
  if (!Array.isArray(polygons)) throw invalidParameterError('transformPolygons', 'polygons', 'an array of polygons', polygons);
  if (typeof fn !== 'function') throw invalidParameterError('transformPolygons', 'fn', 'a function (x, y) => [x, y]', fn);
  const list: readonly Polygon[] = polygons;
  return list.map((polygon) => polygon.map((ring) => ring.map((q) => fn(q[0], q[1]))));
}

/**
 * World polygons to pixel coordinates through an inverted geotransform
 * (`polygonsToPixels(polygons, invertTransform(rasterTransform))`), with GDAL's arithmetic.
 */
export function polygonsToPixels(polygons: readonly Polygon[], inverse: GeoTransform): Polygon[] {
  const t = checkTransform('polygonsToPixels', 'inverse', inverse);
  const [a, b, c, d, e, f] = t;
  return transformPolygons(polygons, (x, y) => [a + x * b + y * c, d + x * e + y * f]);
}
