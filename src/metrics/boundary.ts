// Boundary F-score (Perazzi et al. 2016, the DAVIS benchmark's F): how well the outline of a
// prediction follows the outline of the truth, within a tolerance in pixels. Boundaries are
// DAVIS's `seg2bmap`. A boundary pixel matches when the other boundary has a pixel within the
// tolerance, which equals DAVIS's dilation by a disk of that radius: found by looking around each
// pixel, nearest offsets first, while the disk is small, else by an exact Euclidean distance
// transform (Felzenszwalb and Huttenlocher 2012), whose cost does not grow with the tolerance.
import type { Tensor } from '../torch/index.js';
import { readOptions, type OptionReader } from '../validate.js';
import { checkMask } from './components.js';
import { MASK_KEYS, binaryMasks, type MaskOptions } from './masks.js';
import { readStatsConfig } from './stats.js';

/** Options of matchBoundaries. */
export interface BoundaryOptions {
  /** A boundary pixel matches when one of the other mask's lies within this Euclidean distance, in pixels (default 2). */
  tolerance?: number;
  /** Pixels to leave out (nonzero = ignored), cleared in both masks first as DAVIS does with its void pixels. */
  ignore?: Uint8Array | null;
}

/** Boundary pixels of both masks, how many of each found a partner, and the scores. */
export interface BoundaryMatch {
  predBoundary: number;
  truthBoundary: number;
  /** Prediction boundary pixels with a truth boundary pixel within the tolerance. */
  predMatched: number;
  /** Truth boundary pixels with a prediction boundary pixel within the tolerance. */
  truthMatched: number;
  /** predMatched / predBoundary (1 when there is no prediction boundary). */
  precision: number;
  /** truthMatched / truthBoundary (1 when there is no truth boundary). */
  recall: number;
  /** 2PR / (P + R), 0 when both are 0. */
  f: number;
}

/** Pixels; DAVIS's 0.008 of the diagonal is 3 px at 256x256, 6 px at 512x512. */
export const DEFAULT_TOLERANCE = 2;

/**
 * DAVIS's `seg2bmap`: a pixel is on the boundary when the mask differs between it and its
 * right, lower or lower-right neighbour, so both sides of an edge count, and the image border
 * is no boundary (a full mask has none).
 */
export function boundaryMap(mask: Uint8Array, width: number, height: number): Uint8Array {
  checkMask('metrics.boundaryMap', 'mask', mask, width, height);
  return boundaryOf(mask, width, height);
}

function boundaryOf(mask: Uint8Array, width: number, height: number): Uint8Array {
  const b = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const lastRow = y === height - 1;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      const s = mask[i] !== 0;
      const lastCol = x === width - 1;
      const e = !lastCol && mask[i + 1] !== 0;
      if (lastRow) b[i] = !lastCol && s !== e ? 1 : 0;
      else {
        const so = mask[i + width] !== 0;
        if (lastCol) b[i] = s !== so ? 1 : 0;
        else b[i] = s !== e || s !== so || s !== (mask[i + width + 1] !== 0) ? 1 : 0;
      }
    }
  }
  return b;
}

const FAR = 1e20;

/** Squared Euclidean distance from each pixel to the nearest nonzero pixel of `feature` (FAR when there is none). */
export function squaredDistanceTransform(feature: Uint8Array, width: number, height: number): Float64Array {
  const d = new Float64Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = feature[i] !== 0 ? 0 : FAR;
  const n = Math.max(width, height);
  const f = new Float64Array(n);
  const out = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = d[y * width + x];
    transform1d(f, height, out, v, z);
    for (let y = 0; y < height; y++) d[y * width + x] = out[y];
  }
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) f[x] = d[row + x];
    transform1d(f, width, out, v, z);
    for (let x = 0; x < width; x++) d[row + x] = out[x];
  }
  return d;
}

/** The 1-D squared distance transform by the lower envelope of parabolas. */
function transform1d(f: Float64Array, n: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    while (s <= z[k]) {
      k--;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const dq = q - v[k];
    out[q] = dq * dq + f[v[k]];
  }
}

/** The integer offsets within `limit2` (squared distance), nearest first. */
function diskOffsets(limit2: number): [number, number][] {
  const r = Math.floor(Math.sqrt(limit2));
  const out: [number, number][] = [];
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= limit2) out.push([dx, dy]);
  return out.sort((a, b) => a[0] * a[0] + a[1] * a[1] - (b[0] * b[0] + b[1] * b[1]));
}

/** Pixels of `boundary` within `limit2` (squared distance) of a pixel of `other`. */
function countMatched(
  boundary: Uint8Array,
  n: number,
  other: Uint8Array,
  nOther: number,
  width: number,
  height: number,
  limit2: number,
): number {
  if (n === 0 || nOther === 0) return 0;
  const disk = diskOffsets(limit2);
  // Few boundary pixels and a small disk: look around each pixel, nearest offsets first. Else one
  // distance transform, whose cost does not grow with the tolerance.
  if (disk.length * n <= 8 * width * height) {
    let matched = 0;
    for (let i = 0; i < boundary.length; i++) {
      if (boundary[i] === 0) continue;
      const x = i % width;
      const y = (i - x) / width;
      for (const [dx, dy] of disk) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx >= 0 && nx < width && ny >= 0 && ny < height && other[ny * width + nx] !== 0) {
          matched++;
          break;
        }
      }
    }
    return matched;
  }
  const d = squaredDistanceTransform(other, width, height);
  let matched = 0;
  for (let i = 0; i < boundary.length; i++) if (boundary[i] !== 0 && d[i] <= limit2) matched++;
  return matched;
}

function count(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) n++;
  return n;
}

/** P, R and F from the counts, with DAVIS's rule for empty boundaries: 0/0 counts as 1. */
export function boundaryScores(predBoundary: number, truthBoundary: number, predMatched: number, truthMatched: number): BoundaryMatch {
  const precision = predBoundary === 0 ? 1 : predMatched / predBoundary;
  const recall = truthBoundary === 0 ? 1 : truthMatched / truthBoundary;
  const f = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { predBoundary, truthBoundary, predMatched, truthMatched, precision, recall, f };
}

/** Reads `tolerance` (boundaryFScore's and the Accumulator's `boundary` option). */
export function readTolerance(o: OptionReader<object>): number {
  const t = o.number('tolerance', DEFAULT_TOLERANCE, { min: 0 });
  if (!Number.isFinite(t)) throw new RangeError(`${o.where}: ${o.prefix}tolerance must be a finite number >= 0, got ${t}`);
  return t;
}

/**
 * DAVIS's boundary F-measure of one prediction mask against one truth mask (width * height
 * bytes each, row-major, nonzero = object), with the tolerance in pixels rather than as a
 * fraction of the diagonal: DAVIS's default `bound_th = 0.008` is `Math.ceil(0.008 * Math.hypot(height, width))`.
 */
export function matchBoundaries(
  pred: Uint8Array,
  truth: Uint8Array,
  width: number,
  height: number,
  options?: BoundaryOptions,
): BoundaryMatch {
  const where = 'metrics.matchBoundaries';
  checkMask(where, 'pred', pred, width, height);
  checkMask(where, 'truth', truth, width, height);
  const o = readOptions(where, options, ['tolerance', 'ignore']);
  const tolerance = readTolerance(o);
  const ignore = o.get('ignore') == null ? null : checkMask(where, 'ignore', o.get('ignore'), width, height);
  return boundaryMatch(pred, truth, width, height, tolerance, ignore);
}

/** matchBoundaries without the argument checks. */
export function boundaryMatch(
  pred: Uint8Array,
  truth: Uint8Array,
  width: number,
  height: number,
  tolerance: number,
  ignore: Uint8Array | null,
): BoundaryMatch {
  if (ignore !== null) {
    pred = pred.map((v, i) => (ignore[i] !== 0 ? 0 : v));
    truth = truth.map((v, i) => (ignore[i] !== 0 ? 0 : v));
  }
  const pb = boundaryOf(pred, width, height);
  const tb = boundaryOf(truth, width, height);
  const limit2 = tolerance * tolerance;
  const np = count(pb);
  const nt = count(tb);
  return boundaryScores(np, nt, countMatched(pb, np, tb, nt, width, height, limit2), countMatched(tb, nt, pb, np, width, height, limit2));
}

/** Mean boundary precision, recall and F over the images of a batch. */
export interface BoundaryScore {
  precision: number;
  recall: number;
  f: number;
}

/** Options of boundaryFScore. */
export interface BoundaryFScoreOptions extends MaskOptions {
  /** In pixels (default 2). */
  tolerance?: number;
}

/**
 * DAVIS's boundary F over a batch of masks (N, 1, H, W) or (N, H, W): F, precision and recall
 * of each image, averaged over the images as DAVIS averages over frames.
 */
export function boundaryFScore(output: Tensor, target: Tensor, options?: BoundaryFScoreOptions): BoundaryScore {
  const where = 'metrics.boundaryFScore';
  const o = readOptions(where, options, [...MASK_KEYS, 'tolerance']);
  const c = readStatsConfig(o, 'binary');
  const tolerance = readTolerance(o);
  const m = binaryMasks(where, output, target, c);
  const size = m.height * m.width;
  const sum = { precision: 0, recall: 0, f: 0 };
  for (let i = 0; i < m.count; i++) {
    const r = boundaryMatch(
      m.pred.subarray(i * size, (i + 1) * size),
      m.truth.subarray(i * size, (i + 1) * size),
      m.width,
      m.height,
      tolerance,
      null,
    );
    sum.precision += r.precision;
    sum.recall += r.recall;
    sum.f += r.f;
  }
  return { precision: sum.precision / m.count, recall: sum.recall / m.count, f: sum.f / m.count };
}
