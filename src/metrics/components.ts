// Connected-component labelling of a binary mask: the building instances of a semantic mask.
// Two raster passes over a union-find forest (Wu, Otoo and Suzuki 2005), on plain typed
// arrays: the mask is copied out of its tensor once, and nothing here allocates per pixel.
import { checkInt, invalidParameterError, readOptions } from '../validate.js';

/** 4: pixels touching by an edge are one object; 8: by an edge or a corner. */
export type Connectivity = 4 | 8;

/** Options of connectedComponents. */
export interface ComponentsOptions {
  /**
   * 4 (the default) keeps buildings that touch only at a corner apart. It is the rule of
   * rasterio's `features.shapes` and GDAL's polygonize, through which SpaceNet's tools turn
   * masks into the polygons they score; 8 is scikit-image's `label` default in 2-D.
   */
  connectivity?: Connectivity;
}

/** A labelling: which object each pixel belongs to, and each object's size. */
export interface Components {
  /** Row-major labels: 0 for background, 1..count for the objects in raster order of their first pixel. */
  labels: Int32Array;
  /** How many objects. */
  count: number;
  /** Pixel count of each object: areas[k - 1] for label k. */
  areas: Int32Array;
}

/** The connectivities connectedComponents knows. */
export const CONNECTIVITIES: readonly Connectivity[] = [4, 8];

/** Checks a mask and its size; `what` names it in errors ('mask', 'pred'). */
export function checkMask(where: string, what: string, mask: unknown, width: number, height: number): Uint8Array {
  checkInt(where, 'width', width, { min: 0 });
  checkInt(where, 'height', height, { min: 0 });
  if (!(mask instanceof Uint8Array)) throw invalidParameterError(where, what, 'a Uint8Array (one byte per pixel, nonzero = object)', mask);
  if (mask.length !== width * height) {
    throw new RangeError(
      `${where}: ${what} must hold width * height = ${width} * ${height} = ${width * height} pixels, got ${mask.length}`,
    );
  }
  return mask;
}

function find(parent: Int32Array, x: number): number {
  let root = x;
  while (parent[root] !== root) root = parent[root];
  while (parent[x] !== root) {
    const next = parent[x];
    parent[x] = root;
    x = next;
  }
  return root;
}

/** Joins two trees under the smaller root, so a root is always its tree's first provisional label. */
function union(parent: Int32Array, a: number, b: number): number {
  const ra = find(parent, a);
  const rb = find(parent, b);
  if (ra < rb) parent[rb] = ra;
  else if (rb < ra) parent[ra] = rb;
  return Math.min(ra, rb);
}

/**
 * Labels the connected components of `mask` (width * height bytes, row-major, nonzero =
 * foreground), as scikit-image's `measure.label` or OpenCV's `connectedComponents` do.
 */
export function connectedComponents(mask: Uint8Array, width: number, height: number, options?: ComponentsOptions): Components {
  const where = 'metrics.connectedComponents';
  checkMask(where, 'mask', mask, width, height);
  const o = readOptions(where, options, ['connectivity']);
  const eight = o.choice('connectivity', CONNECTIVITIES, 4) === 8;
  return label(mask, width, height, eight);
}

/** connectedComponents without the argument checks, for callers that made the mask themselves. */
export function label(mask: Uint8Array, width: number, height: number, eight: boolean): Components {
  const labels = new Int32Array(width * height);
  // A new provisional label needs a background pixel on its left, so a row starts at most
  // ceil(width / 2) of them.
  const parent = new Int32Array(height * Math.ceil(width / 2) + 1);
  let next = 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const up = row - width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      if (mask[i] === 0) continue;
      let l = x > 0 ? labels[i - 1] : 0;
      if (y > 0) {
        const n = labels[up + x];
        if (n !== 0) l = l === 0 || l === n ? n : union(parent, l, n);
        if (eight) {
          if (x > 0) {
            const nw = labels[up + x - 1];
            if (nw !== 0) l = l === 0 || l === nw ? nw : union(parent, l, nw);
          }
          if (x + 1 < width) {
            const ne = labels[up + x + 1];
            if (ne !== 0) l = l === 0 || l === ne ? ne : union(parent, l, ne);
          }
        }
      }
      if (l === 0) {
        l = next++;
        parent[l] = l;
      }
      labels[i] = l;
    }
  }
  // Roots are the first provisional label of their tree, so numbering roots in order numbers
  // the objects in raster order of their first pixel.
  const final = new Int32Array(next);
  let count = 0;
  for (let l = 1; l < next; l++) final[l] = parent[l] === l ? ++count : final[find(parent, l)];
  const areas = new Int32Array(count);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== 0) {
      const f = final[l];
      labels[i] = f;
      areas[f - 1]++;
    }
  }
  return { labels, count, areas };
}
