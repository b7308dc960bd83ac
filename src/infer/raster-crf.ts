// The dense CRF of DeepLab v1 over rasters too large for one CRF. The CRF is fully connected:
// refining a 10k x 10k raster as one would hold its 10^8 pixels (image, K probability planes,
// the lattice) at once. Instead the raster is cut into tiles whose CRF also sees a margin of
// context on every side, refined and then dropped, so a tile's border pixels are refined with
// their neighbours much as the whole-raster CRF would refine them: the masks agree on 99.5 % of
// pixels or more, the few that differ lying mostly near seams (test/infer-raster-crf.test.ts).
// It costs about 25 % more time than one CRF (2048 x 2048: 9.9 s against 8.0 s on one core).
// Rows arrive strip by strip from predictRaster
// and are buffered until the margin below a band of tiles is known; then the band is refined
// and handed back, top to bottom, each row once.
import { denseCrf, DEEPLAB_CRF, type DenseCrfOptions } from './crf.js';
import { checkFinite, invalidParameterError, is, OptionReader } from '../validate.js';

/** The dense CRF's options (crf.ts) with how a raster is cut into tiles. */
export interface RasterCrfOptions extends Omit<DenseCrfOptions, 'width' | 'height'> {
  /**
   * The largest side of a tile's core, in pixels (512, min 16). The raster is cut into equal
   * tiles of at most this size, so an image no larger than one tile gets the exact CRF.
   */
  tileSize?: number;
  /**
   * Context on every side of a tile's core, in pixels (128): refined with the tile, then
   * discarded. The default is about DEEPLAB_CRF's appearance xyStd (121 px), the reach of the
   * kernel that carries labels furthest; scale it with xyStd. On a 1280 x 1280 mosaic in tiles
   * of 427 px, the mask disagrees with the whole-image CRF's on 0.99 % of pixels with margin 0,
   * 0.49 % with 64 and 0.31 % with 128, for about 20 % more time than 64; cropping 64 columns off
   * the image alone moves 0.28 % of the whole-image CRF's mask, so 128 is near that floor.
   */
  margin?: number;
}

/** The raster CRF's options with every default filled in. */
export interface ResolvedRasterCrf {
  tileSize: number;
  margin: number;
  crf: {
    iterations: number;
    appearance: { weight: number; xyStd: number; rgbStd: number };
    smoothness: { weight: number; xyStd: number };
  };
}

export const RASTER_CRF_DEFAULTS = Object.freeze({ tileSize: 512, margin: 128 });
const MIN_TILE = 16;
const KEYS = ['iterations', 'appearance', 'smoothness', 'tileSize', 'margin'] as const;

/**
 * Reads a `crf` option, `true` (DeepLab's parameters, tiles of 512 with a margin of 128), `false`
 * or undefined (no CRF), or a RasterCrfOptions object, with every error naming `where` and
 * `crf.<option>`: checked before any work, so a bad option never leaves a half-written raster.
 */
export function readRasterCrf(where: string, value: unknown, prefix = 'crf.'): ResolvedRasterCrf | null {
  if (value === undefined || value === false) return null;
  if (value !== true && !is.object(value)) {
    throw invalidParameterError(where, 'crf', `true, false or an object of CRF options (${KEYS.join(', ')})`, value);
  }
  const o = new OptionReader(where, value === true ? {} : value, KEYS, prefix);
  const a = o.nested('appearance', ['weight', 'xyStd', 'rgbStd']);
  const s = o.nested('smoothness', ['weight', 'xyStd']);
  const num = (r: OptionReader<object> | null, group: string, name: string, fallback: number, positive: boolean) =>
    checkFinite(where, `${prefix}${group}.${name}`, r?.get(name) ?? fallback, positive ? { min: 0, exclusive: 'min' } : { min: 0 });
  return {
    tileSize: o.int('tileSize', RASTER_CRF_DEFAULTS.tileSize, { min: MIN_TILE }),
    margin: o.int('margin', RASTER_CRF_DEFAULTS.margin, { min: 0 }),
    crf: {
      iterations: o.int('iterations', DEEPLAB_CRF.iterations),
      appearance: {
        weight: num(a, 'appearance', 'weight', DEEPLAB_CRF.appearance.weight, false),
        xyStd: num(a, 'appearance', 'xyStd', DEEPLAB_CRF.appearance.xyStd, true),
        rgbStd: num(a, 'appearance', 'rgbStd', DEEPLAB_CRF.appearance.rgbStd, true),
      },
      smoothness: {
        weight: num(s, 'smoothness', 'weight', DEEPLAB_CRF.smoothness.weight, false),
        xyStd: num(s, 'smoothness', 'xyStd', DEEPLAB_CRF.smoothness.xyStd, true),
      },
    },
  };
}

/** n + 1 boundaries cutting `size` into n = ceil(size / most) near-equal parts: no sliver tile at the edge. */
function cuts(size: number, most: number): number[] {
  const n = Math.max(1, Math.ceil(size / most));
  return Array.from({ length: n + 1 }, (_, i) => Math.round((i * size) / n));
}

/** Refined rows handed back by TiledCrf: `rows` rows from row `y`, [planes, rows, width]. */
export interface CrfRows {
  y: number;
  rows: number;
  probabilities: Float32Array;
}

/**
 * The tiled CRF fed row by row. `push` takes the next rows of the image (RGB bytes, interleaved)
 * and of the probabilities ([planes, rows, width]: K softmax planes, or 1 for a sigmoid), and
 * returns the bands of rows it could finish, in order; every row comes back exactly once, the
 * last with the push that completes the raster.
 *
 * Memory: rows are kept from a band's top margin until the band is refined, so the buffer holds
 * at most tileSize + 2 margin + (rows of one push) rows of width x (3 + 4 planes) bytes, and a
 * band's result tileSize x width x 4 planes bytes more: about 81 + 20 MB for a 10 000 px wide
 * binary raster pushed 384 rows at a time (Predictor's window 512, overlap 128) with the
 * defaults. One CRF runs at a time, on at most (tileSize + 2 margin)^2 pixels: under 100 MB of
 * peak RSS at 768^2, measured on random colours (the lattice's worst case). Nothing grows
 * with the raster's height.
 */
export class TiledCrf {
  private readonly bandCuts: number[];
  private readonly colCuts: number[];
  private readonly margin: number;
  private readonly crf: ResolvedRasterCrf['crf'];
  private band = 0;
  /** Buffered rows are [start, end) of the raster; end is also the count of rows pushed. */
  private start = 0;
  private end = 0;
  private capacity = 0;
  private rgb = new Uint8Array(0);
  private prob = new Float32Array(0);

  constructor(
    readonly width: number,
    readonly height: number,
    readonly planes: number,
    options: ResolvedRasterCrf,
  ) {
    this.bandCuts = cuts(height, options.tileSize);
    this.colCuts = cuts(width, options.tileSize);
    this.margin = options.margin;
    this.crf = options.crf;
  }

  /** Rows pushed so far. */
  get received(): number {
    return this.end;
  }

  push(rgb: Uint8Array | Uint8ClampedArray, probabilities: Float32Array): CrfRows[] {
    const where = 'TiledCrf.push';
    const { width, height, planes } = this;
    const rows = rgb.length / (width * 3);
    if (!Number.isInteger(rows) || rows === 0 || this.end + rows > height) {
      throw invalidParameterError(
        where,
        'rgb',
        `whole rows of ${width} x 3 bytes, at most the ${height - this.end} row(s) left`,
        `${rgb.length} bytes`,
        RangeError,
      );
    }
    if (probabilities.length !== planes * rows * width) {
      throw invalidParameterError(
        where,
        'probabilities',
        `${planes} x ${rows} x ${width} values`,
        `${probabilities.length} values`,
        RangeError,
      );
    }
    this.reserve(this.end + rows - this.start);
    const at = this.end - this.start;
    this.rgb.set(rgb, at * width * 3);
    for (let k = 0; k < planes; k++) {
      this.prob.set(probabilities.subarray(k * rows * width, (k + 1) * rows * width), (k * this.capacity + at) * width);
    }
    this.end += rows;
    const out: CrfRows[] = [];
    while (this.band < this.bandCuts.length - 1 && this.end >= this.contextEnd(this.band)) out.push(this.refineBand(this.band++));
    this.drop(this.band < this.bandCuts.length - 1 ? this.contextStart(this.band) : this.end);
    return out;
  }

  private contextStart(band: number): number {
    return Math.max(0, this.bandCuts[band]! - this.margin);
  }

  private contextEnd(band: number): number {
    return Math.min(this.height, this.bandCuts[band + 1]! + this.margin);
  }

  /** Room for `rows` buffered rows; growing keeps the rows already there. */
  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const { width, planes } = this;
    const kept = this.end - this.start;
    const rgb = new Uint8Array(rows * width * 3);
    rgb.set(this.rgb.subarray(0, kept * width * 3));
    const prob = new Float32Array(planes * rows * width);
    for (let k = 0; k < planes; k++) {
      prob.set(this.prob.subarray(k * this.capacity * width, (k * this.capacity + kept) * width), k * rows * width);
    }
    [this.rgb, this.prob, this.capacity] = [rgb, prob, rows];
  }

  /** Forgets the rows above `row`, moving the rest to the buffer's top. */
  private drop(row: number): void {
    const { width, planes } = this;
    const cut = Math.min(row, this.end) - this.start;
    if (cut <= 0) return;
    const kept = this.end - this.start - cut;
    this.rgb.copyWithin(0, cut * width * 3, (cut + kept) * width * 3);
    for (let k = 0; k < planes; k++) {
      const base = k * this.capacity * width;
      this.prob.copyWithin(base, base + cut * width, base + (cut + kept) * width);
    }
    this.start += cut;
  }

  private refineBand(band: number): CrfRows {
    const { width, planes, margin } = this;
    const y0 = this.bandCuts[band]!;
    const y1 = this.bandCuts[band + 1]!;
    const c0 = this.contextStart(band);
    const th = this.contextEnd(band) - c0;
    const rows = y1 - y0;
    const out = new Float32Array(planes * rows * width);
    for (let j = 0; j + 1 < this.colCuts.length; j++) {
      const x0 = this.colCuts[j]!;
      const x1 = this.colCuts[j + 1]!;
      const cx0 = Math.max(0, x0 - margin);
      const tw = Math.min(width, x1 + margin) - cx0;
      const tileRgb = new Uint8Array(th * tw * 3);
      const tileProb = new Float32Array(planes * th * tw);
      for (let r = 0; r < th; r++) {
        const src = (c0 - this.start + r) * width + cx0;
        tileRgb.set(this.rgb.subarray(src * 3, (src + tw) * 3), r * tw * 3);
        for (let k = 0; k < planes; k++) {
          const s = k * this.capacity * width + src;
          tileProb.set(this.prob.subarray(s, s + tw), (k * th + r) * tw);
        }
      }
      const q = denseCrf(tileRgb, tileProb, { ...this.crf, width: tw, height: th });
      for (let k = 0; k < planes; k++) {
        for (let r = y0; r < y1; r++) {
          const s = (k * th + r - c0) * tw + x0 - cx0;
          out.set(q.subarray(s, s + x1 - x0), (k * rows + r - y0) * width + x0);
        }
      }
    }
    return { y: y0, rows, probabilities: out };
  }
}

/**
 * denseCrf by tiles (see TiledCrf) on an image held in memory: RGB bytes interleaved, and
 * probabilities [K, H, W] (or one sigmoid plane). Returns the refined probabilities in the same
 * layout. Equals denseCrf when the image fits in one tile; elsewhere their masks agree on 99.5 %
 * (a model's output, tiles of 256) to 99.97 % (a blurred mask, 2048 x 2048, the defaults) of pixels.
 */
export function tiledDenseCrf(
  image: Uint8Array | Uint8ClampedArray,
  probabilities: Float32Array,
  options: RasterCrfOptions & { width: number; height: number },
): Float32Array {
  const where = 'tiledDenseCrf';
  if (!is.object(options)) throw invalidParameterError(where, 'options', 'an object with width and height', options);
  const { width, height, ...rest } = options;
  const o = new OptionReader(where, { width, height }, ['width', 'height']);
  const w = o.int('width');
  const h = o.int('height');
  const resolved = readRasterCrf(where, rest, '')!;
  if (!(image instanceof Uint8Array || image instanceof Uint8ClampedArray)) {
    throw invalidParameterError(where, 'image', 'a Uint8Array of RGB bytes (H x W x 3)', image);
  }
  if (!(probabilities instanceof Float32Array))
    throw invalidParameterError(where, 'probabilities', 'a Float32Array of K x H x W values', probabilities);
  if (image.length !== w * h * 3) {
    throw invalidParameterError(where, 'image', `${w * h * 3} bytes (height ${h} x width ${w} x 3)`, `${image.length} bytes`, RangeError);
  }
  const planes = probabilities.length / (w * h);
  if (!Number.isInteger(planes) || planes === 0) {
    throw invalidParameterError(where, 'probabilities', `K x ${h} x ${w} values`, `${probabilities.length} values`, RangeError);
  }
  const tiled = new TiledCrf(w, h, planes, resolved);
  const out = new Float32Array(probabilities.length);
  for (const band of tiled.push(image, probabilities)) {
    for (let k = 0; k < planes; k++) {
      out.set(band.probabilities.subarray(k * band.rows * w, (k + 1) * band.rows * w), (k * h + band.y) * w);
    }
  }
  return out;
}

/**
 * RGB bytes, interleaved, of the first `rows` rows of a [3, stripRows, width] float image in
 * [0, 1]: rounded and clamped as denseCrf reads a float tensor, so tiled and whole agree exactly.
 */
export function rgbBytes(image: Float32Array, stripRows: number, width: number, rows: number): Uint8ClampedArray {
  const plane = stripRows * width;
  const n = rows * width;
  const rgb = new Uint8ClampedArray(n * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) rgb[i * 3 + c] = image[c * plane + i]! * 255;
  }
  return rgb;
}

/** The mask of [planes, n] probabilities: p >= threshold for one plane (a sigmoid), else argmax (first of ties, as torch). */
export function maskOf(probabilities: Float32Array, planes: number, n: number, threshold: number): Uint8Array {
  const mask = new Uint8Array(n);
  if (planes === 1) {
    // torch compares a float32 tensor with the threshold rounded to float32.
    const t = Math.fround(threshold);
    for (let i = 0; i < n; i++) mask[i] = probabilities[i]! >= t ? 1 : 0;
    return mask;
  }
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < planes; k++) if (probabilities[k * n + i]! > probabilities[best * n + i]!) best = k;
    mask[i] = best;
  }
  return mask;
}
