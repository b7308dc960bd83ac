// Mask clean-up after thresholding: drop specks too small to be buildings and fill the holes a
// network leaves inside roofs, by size in pixels or, given the pixel's ground area, in square
// metres. Connected components come from metrics/components.ts.
import { CONNECTIVITIES, type Connectivity, checkMask, label } from '../metrics/components.js';
import { checkFinite, type OptionReader, readOptions } from '../validate.js';

/** A size threshold in pixels (`...Size`) or in square metres (`...Area`, with `pixelArea`). */
interface SizeOptions {
  /** Ground area of one pixel in square metres (0.075 * 0.075 for 7.5 cm pixels): needed with an area in m². */
  pixelArea?: number;
  /**
   * 4 (the default): objects touching only at a corner are separate, as in
   * metrics.connectedComponents and GDAL's polygonize. Holes are traced with the other
   * connectivity (8 for 4), so that a hole is exactly a region the object encloses.
   */
  connectivity?: Connectivity;
}

export interface RemoveSmallObjectsOptions extends SizeOptions {
  /** Objects of fewer pixels are removed. */
  minSize?: number;
  /** Objects of a smaller area in square metres are removed (needs pixelArea). */
  minArea?: number;
}

export interface FillHolesOptions extends SizeOptions {
  /** Holes of at most this many pixels are filled (default: every hole). */
  maxSize?: number;
  /** Holes of at most this area in square metres are filled (needs pixelArea). */
  maxArea?: number;
}

/** The threshold in pixels, from a size in pixels or an area in m²; `fallback` when neither is given (null: one is required). */
function threshold(o: OptionReader<object>, size: string, area: string, fallback: number | null): number {
  const hasSize = o.has(size);
  const hasArea = o.has(area);
  if (hasSize && hasArea) throw new TypeError(`${o.where}: give ${size} (pixels) or ${area} (square metres), not both`);
  if (o.has('pixelArea') && !hasArea) throw new TypeError(`${o.where}: pixelArea is only used with ${area}`);
  if (hasArea) {
    const m2 = checkFinite(o.where, area, o.get(area), { min: 0 });
    if (!o.has('pixelArea')) throw new TypeError(`${o.where}: ${area} is in square metres and needs pixelArea (square metres per pixel)`);
    const pixel = checkFinite(o.where, 'pixelArea', o.get('pixelArea'), { min: 0, exclusive: 'min' });
    return m2 / pixel;
  }
  if (hasSize || fallback === null) return o.number(size, undefined, { min: 0 });
  return fallback;
}

/**
 * Removes the objects (connected components of nonzero pixels) smaller than `minSize` pixels or
 * `minArea` square metres, as scikit-image's `remove_small_objects`. `mask` holds width * height
 * bytes, row-major, nonzero = object; returns a new mask of 0 and 1.
 */
export function removeSmallObjects(mask: Uint8Array, width: number, height: number, options: RemoveSmallObjectsOptions): Uint8Array {
  const where = 'removeSmallObjects';
  checkMask(where, 'mask', mask, width, height);
  const o = readOptions(where, options, ['minSize', 'minArea', 'pixelArea', 'connectivity']);
  const eight = o.choice('connectivity', CONNECTIVITIES, 4) === 8;
  const min = threshold(o, 'minSize', 'minArea', null);
  const { labels, count, areas } = label(mask, width, height, eight);
  const keep = new Uint8Array(count + 1);
  for (let k = 1; k <= count; k++) keep[k] = areas[k - 1]! >= min ? 1 : 0;
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < out.length; i++) out[i] = keep[labels[i]!]!;
  return out;
}

/**
 * Fills the holes of the objects: regions of zero pixels that the objects enclose, that is
 * that do not reach the mask's border (a background region cut by the tile's edge may go on
 * outside it). With `maxSize` or `maxArea`, only holes up to that size are filled, as
 * scikit-image's `remove_small_holes`; by default all, as SciPy's `binary_fill_holes`.
 * Returns a new mask of 0 and 1.
 */
export function fillHoles(mask: Uint8Array, width: number, height: number, options?: FillHolesOptions): Uint8Array {
  const where = 'fillHoles';
  checkMask(where, 'mask', mask, width, height);
  const o = readOptions(where, options, ['maxSize', 'maxArea', 'pixelArea', 'connectivity']);
  // Objects 4-connected leave a diagonal gap open, so the background flows through it:
  // background regions are 8-connected then, and 4-connected for 8-connected objects.
  const holesEight = o.choice('connectivity', CONNECTIVITIES, 4) === 4;
  const max = threshold(o, 'maxSize', 'maxArea', Number.POSITIVE_INFINITY);
  if (mask.length === 0) return new Uint8Array(0);
  const background = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) background[i] = mask[i] === 0 ? 1 : 0;
  const { labels, count, areas } = label(background, width, height, holesEight);
  const fill = new Uint8Array(count + 1);
  for (let k = 1; k <= count; k++) fill[k] = areas[k - 1]! <= max ? 1 : 0;
  // Regions reaching the border are not holes.
  const open = (i: number) => {
    fill[labels[i]!] = 0;
  };
  for (let x = 0; x < width; x++) {
    open(x);
    open((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    open(y * width);
    open(y * width + width - 1);
  }
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < out.length; i++) out[i] = mask[i] !== 0 || fill[labels[i]!] === 1 ? 1 : 0;
  return out;
}
