// Per-band statistics of a dataset, one image at a time, in bounded memory: what
// `segkit data stats` reports and what a percentile stretch for 16-bit rasters is made from.
//
// 8- and 16-bit images go into exact histograms (256 or 65536 bins a band), so count, mean, std,
// min, max and every percentile are exact: the mean and std come from the histogram in float64
// (std with ddof 0, numpy's default). Float images keep Welford/Chan running moments (exact to
// float64 rounding) and a histogram of `bins` bins whose range starts at the first image's
// min..max and doubles whenever a later value falls outside; their percentiles are within half a
// bin width of the exact ones (and p0/p100 are the exact min/max).
//
// Percentiles follow numpy's method='lower': the sample at sorted index floor((count - 1) * p / 100).
import { checkFinite, checkInt, invalidParameterError, readOptions } from '../validate.js';
import type { DecodedImage } from './decode.js';
import type { Scaling } from './normalize.js';

/** What BandStats.result() returns. */
export interface BandStatsResult {
  bands: number;
  /** Valid pixels seen (the same for every band). */
  count: number;
  mean: number[];
  std: number[];
  min: number[];
  max: number[];
  p2: number[];
  p98: number[];
  /** Per-band percentile, p in [0, 100], numpy's method='lower'. */
  percentile(p: number): number[];
}

type Mode = 8 | 16 | 32;

/** Running float moments of one band (Chan et al.'s pairwise merge of Welford's sums). */
interface Moments {
  n: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
}

/** Streaming per-band statistics over decoded images; invalid pixels are skipped. */
export class BandStats {
  private readonly bins: number;
  private mode: Mode | null = null;
  private bands = 0;
  private count = 0;
  /** Integer modes: [bands, 2^bitDepth] counts. Float mode: [bands, bins] counts. */
  private hist: Float64Array = new Float64Array(0);
  private moments: Moments[] = [];
  /** Float mode: per band, the histogram's lower edge and bin width. */
  private lo: number[] = [];
  private width: number[] = [];

  constructor(options?: { bins?: number }) {
    const o = readOptions('BandStats', options, ['bins']);
    this.bins = o.int('bins', 4096, { min: 2 });
    if (this.bins % 2 !== 0) throw new RangeError(`BandStats: bins must be an even integer >= 2 (bins merge in pairs), got ${this.bins}`);
  }

  /** Adds an image's valid pixels. Every image must have the first one's bands and bit depth. */
  update(image: DecodedImage): void {
    const where = 'BandStats.update';
    if (image === null || typeof image !== 'object' || !ArrayBuffer.isView(image.data))
      throw invalidParameterError(where, 'image', 'a DecodedImage (from decodeImage)', image);
    const { data, channels, valid } = image;
    const n = image.height * image.width;
    const mode: Mode = data instanceof Uint8Array ? 8 : data instanceof Uint16Array ? 16 : 32;
    if (data.length !== channels * n)
      throw new RangeError(`${where}: image.data.length must be channels x height x width = ${channels * n}, got ${data.length}`);
    if (valid !== null && valid.length !== n)
      throw new RangeError(`${where}: image.valid.length must be height x width = ${n}, got ${valid.length}`);
    if (this.mode === null) this.start(mode, channels);
    else if (mode !== this.mode || channels !== this.bands)
      throw new Error(
        `${where}: every image must have the same bands and sample type: the first had ${this.bands} band(s) of ${describe(this.mode)}, this one ${channels} of ${describe(mode)}`,
      );
    if (mode === 32) this.updateFloat(data as Float32Array, n, valid);
    else this.updateInt(data as Uint8Array | Uint16Array, n, valid);
  }

  private start(mode: Mode, bands: number): void {
    this.mode = mode;
    this.bands = bands;
    this.hist = new Float64Array(bands * (mode === 32 ? this.bins : 1 << mode));
    this.moments = Array.from({ length: bands }, () => ({ n: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity }));
    this.lo = new Array(bands).fill(Number.NaN);
    this.width = new Array(bands).fill(Number.NaN);
  }

  private updateInt(data: Uint8Array | Uint16Array, n: number, valid: Uint8Array | null): void {
    const size = 1 << this.mode!;
    const hist = this.hist;
    for (let b = 0; b < this.bands; b++) {
      const at = b * n;
      const h = b * size;
      if (valid === null) for (let i = 0; i < n; i++) hist[h + data[at + i]!]!++;
      else for (let i = 0; i < n; i++) if (valid[i] !== 0) hist[h + data[at + i]!]!++;
    }
    this.count += valid === null ? n : countOnes(valid);
  }

  private updateFloat(data: Float32Array, n: number, valid: Uint8Array | null): void {
    // A pixel with NaN in any band is skipped in all, so that every band has the same count.
    let use: Uint8Array | null = valid;
    for (let b = 0; b < this.bands; b++) {
      const at = b * n;
      for (let i = 0; i < n; i++) {
        if (Number.isNaN(data[at + i]!) && (use === null || use[i] !== 0)) {
          if (use === null || use === valid) use = valid === null ? new Uint8Array(n).fill(1) : valid.slice();
          use[i] = 0;
        }
      }
    }
    const k = use === null ? n : countOnes(use);
    if (k === 0) return;
    for (let b = 0; b < this.bands; b++) {
      const at = b * n;
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < n; i++) {
        if (use !== null && use[i] === 0) continue;
        const v = data[at + i]!;
        sum += v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const mean = sum / k;
      let m2 = 0;
      for (let i = 0; i < n; i++) {
        if (use !== null && use[i] === 0) continue;
        const d = data[at + i]! - mean;
        m2 += d * d;
      }
      const m = this.moments[b]!;
      const total = m.n + k;
      const delta = mean - m.mean;
      m.mean += (delta * k) / total;
      m.m2 += m2 + (delta * delta * m.n * k) / total;
      m.n = total;
      m.min = Math.min(m.min, min);
      m.max = Math.max(m.max, max);
      if (Number.isNaN(this.lo[b]!)) {
        this.lo[b] = min;
        this.width[b] = (max - min) / this.bins || Math.max(Math.abs(min), 1) * 2 ** -20;
      }
      while (min < this.lo[b]!) this.grow(b, true);
      while (max > this.lo[b]! + this.bins * this.width[b]!) this.grow(b, false);
      const lo = this.lo[b]!;
      const w = this.width[b]!;
      const h = b * this.bins;
      const last = this.bins - 1;
      for (let i = 0; i < n; i++) {
        if (use !== null && use[i] === 0) continue;
        const j = Math.floor((data[at + i]! - lo) / w);
        this.hist[h + Math.min(j, last)]!++;
      }
    }
    this.count += k;
  }

  /** Doubles band b's bin width, extending the range down (by its old span) or up. */
  private grow(b: number, down: boolean): void {
    const bins = this.bins;
    const h = b * bins;
    const merged = new Float64Array(bins);
    const shift = down ? bins : 0;
    for (let j = 0; j < bins; j++) merged[(j + shift) >> 1]! += this.hist[h + j]!;
    this.hist.set(merged, h);
    if (down) this.lo[b]! -= bins * this.width[b]!;
    this.width[b]! *= 2;
  }

  /** The statistics so far; an Error when no valid pixel has been seen. */
  result(): BandStatsResult {
    if (this.count === 0) throw new Error('BandStats.result: no valid pixels seen yet (no update, or every pixel was invalid)');
    const bands = this.bands;
    const count = this.count;
    const mean: number[] = [];
    const std: number[] = [];
    const min: number[] = [];
    const max: number[] = [];
    const hist = this.hist.slice();
    if (this.mode === 32) {
      for (const m of this.moments) {
        mean.push(m.mean);
        std.push(Math.sqrt(m.m2 / m.n));
        min.push(m.min);
        max.push(m.max);
      }
    } else {
      const size = 1 << this.mode!;
      for (let b = 0; b < bands; b++) {
        const h = b * size;
        let sum = 0;
        let lo = -1;
        let hi = -1;
        for (let v = 0; v < size; v++) {
          const c = hist[h + v]!;
          if (c === 0) continue;
          sum += c * v;
          if (lo < 0) lo = v;
          hi = v;
        }
        const m = sum / count;
        let m2 = 0;
        for (let v = lo; v <= hi; v++) m2 += hist[h + v]! * (v - m) * (v - m);
        mean.push(m);
        std.push(Math.sqrt(m2 / count));
        min.push(lo);
        max.push(hi);
      }
    }
    const mode = this.mode!;
    const lows = [...this.lo];
    const widths = [...this.width];
    const bins = this.bins;
    const percentile = (p: number): number[] => {
      checkFinite('BandStats.percentile', 'p', p, { min: 0, max: 100 });
      const rank = Math.floor((count - 1) * (p / 100));
      const size = mode === 32 ? bins : 1 << mode;
      return Array.from({ length: bands }, (_, b) => {
        if (rank === 0) return min[b]!;
        if (rank === count - 1) return max[b]!;
        const j = binOfRank(hist, b * size, size, rank);
        if (mode !== 32) return j;
        const mid = lows[b]! + (j + 0.5) * widths[b]!;
        return Math.min(max[b]!, Math.max(min[b]!, mid));
      });
    };
    return { bands, count, mean, std, min, max, p2: percentile(2), p98: percentile(98), percentile };
  }
}

/** The bin holding the sample of 0-based sorted index `rank`. */
function binOfRank(hist: Float64Array, at: number, size: number, rank: number): number {
  let seen = 0;
  for (let j = 0; j < size; j++) {
    seen += hist[at + j]!;
    if (seen > rank) return j;
  }
  return size - 1;
}

function countOnes(valid: Uint8Array): number {
  let k = 0;
  for (let i = 0; i < valid.length; i++) if (valid[i] !== 0) k++;
  return k;
}

function describe(mode: Mode): string {
  return mode === 32 ? 'float samples' : `${mode}-bit samples`;
}

/**
 * A per-band percentile stretch from statistics: low..high percentiles (default 2..98) map to
 * 0..1. A band whose high percentile equals its low one (a near-constant band) stretches to its
 * max instead, or to low + 1 when the band is constant.
 */
export function stretchFromStats(stats: BandStatsResult, low = 2, high = 98): Scaling {
  const where = 'stretchFromStats';
  if (stats === null || typeof stats !== 'object' || typeof stats.percentile !== 'function')
    throw invalidParameterError(where, 'stats', 'the result of BandStats.result()', stats);
  checkFinite(where, 'low', low, { min: 0, max: 100 });
  checkFinite(where, 'high', high, { min: low, max: 100, exclusive: 'min' });
  checkInt(where, 'stats.bands', stats.bands, { min: 1 });
  const lo = stats.percentile(low);
  const hi = stats.percentile(high).map((h, b) => (h > lo[b]! ? h : stats.max[b]! > lo[b]! ? stats.max[b]! : lo[b]! + 1));
  return { kind: 'stretch', low: lo, high: hi };
}
