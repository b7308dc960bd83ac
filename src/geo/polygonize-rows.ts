// Polygons of a mask too large to hold: rows arrive strip by strip, top to bottom, and each object
// is polygonised as soon as no later row can touch it, with maskToPolygons' own steps
// (polygonize-steps.ts), so the result is maskToPolygons' on the whole mask, polygon for polygon.
//
// Objects are found with a row-by-row connected-component labelling over runs of object pixels
// (a union-find over the runs of the previous row and the current one). An object whose pixels
// all lie above the newest row is complete: its runs are burnt into a mask of its bounding box
// and traced there with traceMask. A trace only ever looks at the traced object's own pixels, so
// it yields the very rings, from the very start positions, that the whole-mask trace yields.
//
// Simplification is joint in maskToPolygons (no simplified ring crosses another), in the order of
// the objects (raster order of their first pixel). A shortcut joins two vertices of its ring, so
// it stays inside its object's bounding box: objects whose boxes are apart never interact. An
// object is simplified once every object whose box meets its own is complete and the earlier of
// them are simplified. An object still receiving rows may grow its box anywhere below, but a
// shortcut it keeps lies within the tolerance of its outline: so it is kept waiting for only while
// its box so far, or the rows not yet received, come within the tolerance of the object's box.

import { checkInt, invalidParameterError, is, outOfRangeError, readOptions } from '../validate.js';
import type { Polygon } from './geojson.js';
import {
  finishObject,
  flatRing,
  keepObject,
  POLYGON_KEYS,
  type PolygonSteps,
  readPolygonSteps,
  type Simplified,
  simplifyAgainst,
} from './polygonize-steps.js';
import type { GeoTransform } from './transform.js';
import { traceMask } from './trace.js';
import type { MaskPolygon, MaskToPolygonsOptions } from './vectorize.js';

/** Options of `createPolygonizer`: maskToPolygons' options but `probabilities` (a whole-raster array). */
export type PolygonizerOptions = Omit<MaskToPolygonsOptions, 'probabilities'>;

/** A sink for mask rows (GeoTiffWriter.writeWindow's shape) that polygonises them. */
export interface Polygonizer {
  /**
   * Takes the next rows: `window` is {x: 0, y: the rows taken so far, width: the mask's width,
   * height}, `data` its width * height bytes (nonzero = object).
   */
  writeWindow(window: { x: number; y: number; width: number; height: number }, data: Uint8Array): Promise<void>;
  /** Once every row is written: the polygons, as maskToPolygons returns them for the whole mask. */
  finish(): MaskPolygon[];
  /** Rows taken so far. */
  readonly rows: number;
  /** The most objects held at once (receiving rows, waiting to be simplified, kept as neighbours): memory besides the output. */
  readonly peakHeld: number;
}

/** A connected component while its rows arrive: a union-find node, its runs kept at the root. */
interface Component {
  up: Component | null;
  /** Raster index of its first pixel: the order of maskToPolygons' output. */
  key: number;
  x0: number;
  x1: number;
  y0: number;
  /** The last row it has pixels in. */
  last: number;
  pixels: number;
  /** Runs of object pixels: y, x0, x1 (exclusive) triples. */
  runs: number[];
  closed: boolean;
}

/** A bounding box in pixel edges. */
interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** A complete object waiting to be simplified, or done and kept as a neighbour of later ones. */
interface Pending extends Box {
  key: number;
  exact: Polygon[];
  pixels: number;
  /** Its rings as the simplification run has them: traced until it is simplified, simplified after. */
  rings: Float64Array[];
}

function find(c: Component): Component {
  while (c.up) {
    if (c.up.up) c.up = c.up.up;
    c = c.up;
  }
  return c;
}

const KEYS = ['width', 'height', ...POLYGON_KEYS];

class RowPolygonizer implements Polygonizer {
  rows = 0;
  peakHeld = 0;
  private readonly where: string;
  private readonly width: number;
  private readonly height: number;
  private readonly steps: PolygonSteps;
  /** Runs of the previous row: x0, x1 and their components. */
  private prev: { x0: number[]; x1: number[]; comp: Component[] } = { x0: [], x1: [], comp: [] };
  private readonly results: { key: number; polygon: MaskPolygon }[] = [];
  private pending: Pending[] = [];
  private done: Pending[] = [];
  /** How far from its box so far an incomplete object's simplified outline may reach, in pixels. */
  private readonly slack: number;
  private finished = false;

  constructor(where: string, width: number, height: number, steps: PolygonSteps) {
    this.where = where;
    this.width = width;
    this.height = height;
    this.steps = steps;
    // The tolerance, plus a pixel against rounding.
    this.slack = steps.tolerance + 1;
  }

  async writeWindow(window: { x: number; y: number; width: number; height: number }, data: Uint8Array): Promise<void> {
    const where = `${this.where}.writeWindow`;
    if (this.finished) throw new Error(`${where}: the polygonizer is finished`);
    if (!is.object(window)) throw invalidParameterError(where, 'window', 'an object {x, y, width, height}', window);
    const w = this.width;
    if (window.x !== 0) throw outOfRangeError(where, 'window.x', '0: rows come whole', window.x);
    if (window.width !== w) throw outOfRangeError(where, 'window.width', `the mask's width (${w}): rows come whole`, window.width);
    if (window.y !== this.rows) throw outOfRangeError(where, 'window.y', `${this.rows}: rows come top to bottom, none skipped`, window.y);
    const h = checkInt(where, 'window.height', window.height, { min: 0, max: this.height - this.rows });
    if (!(data instanceof Uint8Array))
      throw invalidParameterError(where, 'data', 'a Uint8Array (one byte per pixel, nonzero = object)', data);
    if (data.length !== w * h) throw outOfRangeError(where, 'data', `an array of width * height = ${w * h} bytes`, data);
    for (let r = 0; r < h; r++) this.row(data, r * w, this.rows + r);
    this.rows += h;
    if (this.rows === this.height) this.closeAll();
    this.schedule();
    const open = new Set(this.prev.comp.map(find)).size;
    this.peakHeld = Math.max(this.peakHeld, open + this.pending.length + this.done.length);
  }

  finish(): MaskPolygon[] {
    const where = `${this.where}.finish`;
    if (this.finished) throw new Error(`${where}: already finished`);
    if (this.rows !== this.height) throw new Error(`${where}: ${this.rows} of ${this.height} rows written`);
    this.finished = true;
    this.schedule();
    this.results.sort((a, b) => a.key - b.key);
    return this.results.map((r) => r.polygon);
  }

  /** Labels one row's runs against the previous row's, then closes the components it did not reach. */
  private row(data: Uint8Array, offset: number, y: number): void {
    const w = this.width;
    const eight = this.steps.eight;
    const prev = this.prev;
    const next: typeof prev = { x0: [], x1: [], comp: [] };
    let j = 0;
    for (let x = 0; x < w; ) {
      if (data[offset + x] === 0) {
        x++;
        continue;
      }
      const a0 = x;
      while (x < w && data[offset + x] !== 0) x++;
      const a1 = x;
      // Under 8-connectivity runs touching at a corner join too.
      while (j < prev.x0.length && (eight ? prev.x1[j]! < a0 : prev.x1[j]! <= a0)) j++;
      let root: Component | null = null;
      for (let k = j; k < prev.x0.length && (eight ? prev.x0[k]! <= a1 : prev.x0[k]! < a1); k++) {
        root = root === null ? find(prev.comp[k]!) : union(root, find(prev.comp[k]!));
      }
      if (root === null) root = { up: null, key: y * w + a0, x0: a0, x1: a1, y0: y, last: y, pixels: 0, runs: [], closed: false };
      root.runs.push(y, a0, a1);
      root.pixels += a1 - a0;
      root.x0 = Math.min(root.x0, a0);
      root.x1 = Math.max(root.x1, a1);
      root.last = y;
      next.x0.push(a0);
      next.x1.push(a1);
      next.comp.push(root);
    }
    for (const c of prev.comp) {
      const r = find(c);
      if (r.last !== y && !r.closed) this.close(r);
    }
    this.prev = next;
  }

  private closeAll(): void {
    for (const c of this.prev.comp) {
      const r = find(c);
      if (!r.closed) this.close(r);
    }
    this.prev = { x0: [], x1: [], comp: [] };
  }

  /** A complete component: traced in its own box, then finished now or queued for simplification. */
  private close(c: Component): void {
    c.closed = true;
    const bw = c.x1 - c.x0;
    const bh = c.last + 1 - c.y0;
    const mask = new Uint8Array(bw * bh);
    for (let i = 0; i < c.runs.length; i += 3)
      mask.fill(1, (c.runs[i]! - c.y0) * bw + c.runs[i + 1]! - c.x0, (c.runs[i]! - c.y0) * bw + c.runs[i + 2]! - c.x0);
    c.runs = [];
    const traced = traceMask(mask, bw, bh, this.steps.eight);
    if (traced.components.length !== 1) throw new Error(`${this.where}: internal error: an object traced as ${traced.components.length}`);
    const { x0, y0 } = c;
    const exact = traced.components[0]!.parts.map((p) => p.map((ring) => ring.map((q) => [q[0] + x0, q[1] + y0] as [number, number])));
    if (!keepObject(this.steps, exact, c.pixels)) return;
    if (this.steps.tolerance === 0) return this.emit(c.key, exact, c.pixels, null);
    const rings = exact.flatMap((p) => p.map(flatRing));
    this.pending.push({ key: c.key, x0, x1: c.x1, y0, y1: c.last + 1, exact, pixels: c.pixels, rings });
  }

  private emit(key: number, exact: Polygon[], pixels: number, simplified: Polygon[] | null): void {
    const polygon = finishObject(this.steps, exact, pixels, simplified);
    if (polygon) this.results.push({ key, polygon });
  }

  /** Whether a box comes within `margin` of another (touching counts). */
  private near(a: Box, b: Box, margin = 0): boolean {
    return a.x0 <= b.x1 + margin && b.x0 <= a.x1 + margin && a.y0 <= b.y1 + margin && b.y0 <= a.y1 + margin;
  }

  /** Simplifies, in collection order, every pending object whose neighbours are settled. */
  private schedule(): void {
    const open = this.finished ? [] : [...new Set(this.prev.comp.map(find))].map((c) => ({ x0: c.x0, x1: c.x1, y0: c.y0, y1: c.last + 1 }));
    this.pending.sort((a, b) => a.key - b.key);
    const waiting: Pending[] = [];
    this.pending.forEach((c, i) => {
      const settled =
        this.finished ||
        (this.rows > c.y1 + this.slack && !open.some((d) => this.near(c, d, this.slack)) && !waiting.some((d) => this.near(c, d)));
      if (!settled) {
        waiting.push(c);
        return;
      }
      const obstacles: Float64Array[] = [];
      for (const d of this.done) if (this.near(c, d)) obstacles.push(...d.rings);
      for (let k = i + 1; k < this.pending.length; k++) if (this.near(c, this.pending[k]!)) obstacles.push(...this.pending[k]!.rings);
      const s: Simplified = simplifyAgainst(c.exact, obstacles, this.steps.tolerance);
      this.emit(c.key, c.exact, c.pixels, s.polygons);
      c.rings = s.rings;
      c.exact = [];
      this.done.push(c);
    });
    this.pending = waiting;
    // A done object is dropped once nothing unsimplified can come near it.
    let top = this.finished ? Infinity : this.rows;
    for (const d of open) top = Math.min(top, d.y0);
    for (const d of waiting) top = Math.min(top, d.y0);
    this.done = this.done.filter((d) => d.y1 >= top);
  }
}

function union(a: Component, b: Component): Component {
  if (a === b) return a;
  const [big, small] = a.runs.length >= b.runs.length ? [a, b] : [b, a];
  small.up = big;
  big.key = Math.min(big.key, small.key);
  big.x0 = Math.min(big.x0, small.x0);
  big.x1 = Math.max(big.x1, small.x1);
  big.y0 = Math.min(big.y0, small.y0);
  big.last = Math.max(big.last, small.last);
  big.pixels += small.pixels;
  for (const v of small.runs) big.runs.push(v);
  small.runs = [];
  return big;
}

/** The polygonizer behind createPolygonizer and polygonizeRaster; `georef` keeps the output in pixels. */
export function polygonizer(
  where: string,
  options: Record<string, unknown>,
  keys: readonly string[],
  georef?: { transform: GeoTransform | null; crs: string | null },
): Polygonizer {
  const o = readOptions(where, options, keys);
  const width = checkInt(where, 'width', options.width, { min: 0 });
  const height = checkInt(where, 'height', options.height, { min: 0 });
  return new RowPolygonizer(where, width, height, readPolygonSteps(o, width, height, georef));
}

/**
 * A polygonizer for a mask that arrives strip by strip (a GeoTiffWriter-shaped sink, so the raster
 * predictor can write its mask into it): `finish()` returns exactly what maskToPolygons returns
 * for the whole mask with the same options (same polygons, vertices and order). Memory: the runs
 * of the objects that reach the newest row, the bounding box of the object being traced (a few
 * bytes per pixel), the finished polygons, and with `simplify` the objects near an unfinished one
 * (simplification keeps neighbours apart, so an object waits for the objects whose boxes, widened
 * by twice the tolerance, meet its own); never the mask.
 */
export function createPolygonizer(options: PolygonizerOptions): Polygonizer {
  const where = 'createPolygonizer';
  if (!is.object(options)) throw invalidParameterError(where, 'options', 'an object with width and height', options);
  const given = options as Record<string, unknown>;
  if (given.probabilities !== undefined)
    throw invalidParameterError(
      where,
      'probabilities',
      'absent (a whole-raster array; score the polygons afterwards)',
      given.probabilities,
    );
  return polygonizer(where, given, KEYS);
}
