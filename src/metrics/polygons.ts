// SpaceNet's building F1 on polygons: each polygon is burnt on its own onto a common pixel grid
// (with gdal_rasterize's rule, through geo's rasterize), so overlapping polygons keep their own
// pixels, and the pixel IoU of every overlapping pair goes through the same one-to-one matching
// as masks. A finer grid approaches the exact polygon IoU SpaceNet computes with shapely.
import { rasterize } from '../geo/rasterize.js';
import type { Polygon, Ring } from '../geo/geojson.js';
import { checkBool, invalidParameterError, readOptions } from '../validate.js';
import { OBJECT_KEYS, greedyMatch, readObjectConfig, type ObjectMatch, type ObjectPair } from './objects.js';

/** Options of matchPolygons. */
export interface PolygonMatchOptions {
  /** The grid, in pixels: polygons are in its pixel coordinates (x right, y down), as rasterize takes them. */
  width: number;
  height: number;
  /** Minimum IoU of a match (default 0.5). */
  iouThreshold?: number;
  /** Burn every pixel a polygon touches instead of those whose centre it covers (default false). */
  allTouched?: boolean;
}

/** A polygon's pixels on the grid: ascending row-major indices, and their bounding box. */
interface Burnt {
  pixels: Int32Array;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const NONE: Burnt = { pixels: new Int32Array(0), x0: 0, y0: 0, x1: -1, y1: -1 };

/**
 * Each polygon burnt on its own into a buffer the size of its bounding box: the polygon moves by
 * whole pixels (exact in floating point for coordinates >= 0), so pixel centres stay where the
 * grid has them, and memory follows the polygons, not the grid.
 */
function burnEach(where: string, name: string, polygons: readonly Polygon[], width: number, height: number, allTouched: boolean): Burnt[] {
  if (!Array.isArray(polygons))
    throw invalidParameterError(where, name, 'an array of polygons (arrays of rings of [x, y] pixel coordinates)', polygons);
  return polygons.map((polygon, k) => {
    let minx = Infinity;
    let maxx = -Infinity;
    let miny = Infinity;
    let maxy = -Infinity;
    const bad = () => invalidParameterError(where, `${name}[${k}]`, 'rings of [x, y] points with finite coordinates', polygon);
    if (!Array.isArray(polygon)) throw bad();
    for (const ring of polygon) {
      if (!Array.isArray(ring)) throw bad();
      for (const q of ring) {
        if (!Array.isArray(q) || !Number.isFinite(q[0]) || !Number.isFinite(q[1])) throw bad();
        if (q[0] < minx) minx = q[0];
        if (q[0] > maxx) maxx = q[0];
        if (q[1] < miny) miny = q[1];
        if (q[1] > maxy) maxy = q[1];
      }
    }
    if (!(maxx >= 0 && minx <= width && maxy >= 0 && miny <= height)) return NONE;
    const x0 = Math.max(0, Math.floor(minx) - 1);
    const y0 = Math.max(0, Math.floor(miny) - 1);
    const x1 = Math.min(width - 1, Math.ceil(maxx) + 1);
    const y1 = Math.min(height - 1, Math.ceil(maxy) + 1);
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    const local = x0 === 0 && y0 === 0 ? polygon : polygon.map((ring: Ring) => ring.map(([x, y]): [number, number] => [x - x0, y - y0]));
    const buffer = rasterize([local], { width: w, height: h, allTouched });
    const pixels: number[] = [];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (buffer[y * w + x] !== 0) pixels.push((y0 + y) * width + x0 + x);
    return { pixels: Int32Array.from(pixels), x0, y0, x1, y1 };
  });
}

/** Common entries of two ascending lists. */
function common(a: Int32Array, b: Int32Array): number {
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const d = a[i] - b[j];
    if (d === 0) {
      n++;
      i++;
      j++;
    } else if (d < 0) i++;
    else j++;
  }
  return n;
}

const CELL = 64;

/**
 * SpaceNet's object match between prediction and truth polygons (pixel coordinates of a
 * width * height grid): `matches` hold indices into the two arrays. A prediction that burns no
 * pixel is left out (SpaceNet skips proposals of zero area); a truth that burns none counts as missed.
 */
export function matchPolygons(pred: readonly Polygon[], truth: readonly Polygon[], options: PolygonMatchOptions): ObjectMatch {
  const where = 'metrics.matchPolygons';
  if (options === undefined) throw invalidParameterError(where, 'options', 'an object with width and height', options);
  const o = readOptions(where, options, ['width', 'height', 'allTouched', ...OBJECT_KEYS]);
  const width = o.int('width');
  const height = o.int('height');
  const allTouched = o.has('allTouched') ? checkBool(where, 'allTouched', o.get('allTouched')) : false;
  const { iouThreshold } = readObjectConfig(o);
  const predPixels = burnEach(where, 'pred', pred, width, height, allTouched);
  const truthPixels = burnEach(where, 'truth', truth, width, height, allTouched);
  // Truth polygons by the grid cells their boxes cover, so each prediction meets only its neighbours.
  const columns = Math.ceil(width / CELL);
  const cells = new Map<number, number[]>();
  truthPixels.forEach((b, t) => {
    if (b.pixels.length === 0) return;
    for (let cy = Math.floor(b.y0 / CELL); cy <= Math.floor(b.y1 / CELL); cy++)
      for (let cx = Math.floor(b.x0 / CELL); cx <= Math.floor(b.x1 / CELL); cx++) {
        const list = cells.get(cy * columns + cx);
        if (list) list.push(t);
        else cells.set(cy * columns + cx, [t]);
      }
  });
  // Ids shift by one: greedyMatch's ids start at 1 like component labels.
  const kept = predPixels.map((b, k) => [k, b] as const).filter(([, b]) => b.pixels.length > 0);
  const pairs: ObjectPair[] = [];
  kept.forEach(([, b], slot) => {
    const near = new Set<number>();
    for (let cy = Math.floor(b.y0 / CELL); cy <= Math.floor(b.y1 / CELL); cy++)
      for (let cx = Math.floor(b.x0 / CELL); cx <= Math.floor(b.x1 / CELL); cx++)
        for (const t of cells.get(cy * columns + cx) ?? []) near.add(t);
    for (const t of near) {
      const tb = truthPixels[t];
      if (tb.x0 > b.x1 || tb.x1 < b.x0 || tb.y0 > b.y1 || tb.y1 < b.y0) continue;
      const inter = common(b.pixels, tb.pixels);
      if (inter === 0) continue;
      const iou = inter / (b.pixels.length + tb.pixels.length - inter);
      if (iou >= iouThreshold) pairs.push({ pred: slot + 1, truth: t + 1, iou });
    }
  });
  const m = greedyMatch(pairs, kept.length, truth.length);
  m.matches = m.matches.map((p) => ({ pred: kept[p.pred - 1]![0], truth: p.truth - 1, iou: p.iou }));
  return m;
}
