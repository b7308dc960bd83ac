// Samplers: which dataset indices an epoch visits, in which order, as torch.utils.data's. A
// sampler holds no generator state: the indices of an epoch are a pure function of
// (seed, epoch), so a resumed run, or a loader that prefetches, sees the same order.
import { checkFinite, checkInt, invalidParameterError, outOfRangeError, readOptions } from '../validate.js';
import { Random } from './random.js';

/** The indices of one epoch. `DataLoader` calls `indices(epoch, seed)` once per epoch. */
export interface Sampler {
  /** Indices per epoch. */
  readonly length: number;
  /** The indices epoch `epoch` visits, drawn from (seed, epoch) alone. */
  indices(epoch: number, seed: number): number[];
}

/** Anything with a length: a Dataset, an array, or a count. */
export type SizedSource = number | { readonly length: number };

function sizeOf(where: string, source: SizedSource): number {
  if (typeof source === 'number') return checkInt(where, 'dataSource', source, { min: 0 });
  if (typeof source !== 'object' || source === null || typeof source.length !== 'number')
    throw invalidParameterError(where, 'dataSource', 'a dataset, an array or a non-negative integer', source);
  return checkInt(where, 'dataSource.length', source.length, { min: 0 });
}

function checkEpoch(where: string, epoch: number, seed: number): void {
  checkInt(where, 'epoch', epoch, { min: 0 });
  checkInt(where, 'seed', seed);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** 0, 1, ..., n - 1 every epoch (torch.utils.data.SequentialSampler). */
export class SequentialSampler implements Sampler {
  readonly length: number;

  constructor(dataSource: SizedSource) {
    this.length = sizeOf('SequentialSampler', dataSource);
  }

  indices(epoch = 0, seed = 0): number[] {
    checkEpoch('SequentialSampler.indices', epoch, seed);
    return range(this.length);
  }
}

/** Options of `RandomSampler`, as PyTorch's. */
export interface RandomSamplerOptions {
  /** Draw with replacement (default false). */
  replacement?: boolean;
  /** Indices per epoch (default the dataset's length). */
  numSamples?: number;
}

/**
 * A random order each epoch (torch.utils.data.RandomSampler). Without replacement, `numSamples`
 * beyond the dataset's length chains whole permutations, the last one cut short, as PyTorch does.
 */
export class RandomSampler implements Sampler {
  readonly length: number;
  readonly replacement: boolean;
  private readonly size: number;

  constructor(dataSource: SizedSource, options?: RandomSamplerOptions) {
    const where = 'RandomSampler';
    this.size = sizeOf(where, dataSource);
    const o = readOptions(where, options, ['replacement', 'numSamples']);
    this.replacement = o.bool('replacement', false);
    this.length = o.int('numSamples', this.size, { min: 1 });
    if (this.size === 0 && this.length > 0) throw outOfRangeError(where, 'dataSource.length', 'a positive integer to draw samples from', 0);
  }

  indices(epoch = 0, seed = 0): number[] {
    checkEpoch('RandomSampler.indices', epoch, seed);
    const random = Random.derive(seed, epoch);
    if (this.replacement) return Array.from({ length: this.length }, () => random.int(this.size));
    const out: number[] = [];
    while (out.length < this.length) {
      const perm = random.shuffle(range(this.size));
      const take = Math.min(perm.length, this.length - out.length);
      for (let i = 0; i < take; i++) out.push(perm[i]!);
    }
    return out;
  }
}

/** A random order of a fixed set of indices each epoch (torch.utils.data.SubsetRandomSampler). */
export class SubsetRandomSampler implements Sampler {
  readonly length: number;
  private readonly subset: readonly number[];

  constructor(indices: readonly number[]) {
    if (!Array.isArray(indices))
      throw invalidParameterError('SubsetRandomSampler', 'indices', 'an array of non-negative integers', indices);
    this.subset = indices.map((v, i) => checkInt('SubsetRandomSampler', `indices[${i}]`, v, { min: 0 }));
    this.length = this.subset.length;
  }

  indices(epoch = 0, seed = 0): number[] {
    checkEpoch('SubsetRandomSampler.indices', epoch, seed);
    return Random.derive(seed, epoch).shuffle(this.subset);
  }
}

/** Options of `WeightedRandomSampler`. */
export interface WeightedRandomSamplerOptions {
  /** Draw with replacement (default true, as PyTorch). */
  replacement?: boolean;
}

/**
 * Index i drawn with probability weights[i] / sum(weights) (torch.utils.data.WeightedRandomSampler,
 * which is torch.multinomial). Without replacement each draw removes its index, so `numSamples`
 * may not exceed the number of positive weights.
 */
export class WeightedRandomSampler implements Sampler {
  readonly length: number;
  readonly replacement: boolean;
  readonly weights: readonly number[];
  /** Running sums of the weights, for drawing with replacement by bisection. */
  private readonly cumulative: Float64Array;

  constructor(weights: readonly number[] | Float32Array | Float64Array, numSamples: number, options?: WeightedRandomSamplerOptions) {
    const where = 'WeightedRandomSampler';
    if (!Array.isArray(weights) && !(weights instanceof Float32Array) && !(weights instanceof Float64Array))
      throw invalidParameterError(where, 'weights', 'an array of non-negative numbers', weights);
    this.weights = Array.from(weights, (w, i) => checkFinite(where, `weights[${i}]`, w, { min: 0 }));
    this.length = checkInt(where, 'numSamples', numSamples, { min: 1 });
    this.replacement = readOptions(where, options, ['replacement']).bool('replacement', true);
    this.cumulative = new Float64Array(this.weights.length);
    let sum = 0;
    this.weights.forEach((w, i) => {
      sum += w;
      this.cumulative[i] = sum;
    });
    if (!(sum > 0)) throw outOfRangeError(where, 'weights', 'an array with at least one positive weight', weights);
    const positive = this.weights.filter((w) => w > 0).length;
    if (!this.replacement && this.length > positive)
      throw outOfRangeError(where, 'numSamples', `at most ${positive} (the number of positive weights) without replacement`, this.length);
  }

  indices(epoch = 0, seed = 0): number[] {
    checkEpoch('WeightedRandomSampler.indices', epoch, seed);
    const random = Random.derive(seed, epoch);
    return this.replacement ? this.withReplacement(random) : this.withoutReplacement(random);
  }

  private withReplacement(random: Random): number[] {
    const c = this.cumulative;
    const total = c[c.length - 1]!;
    const out = new Array<number>(this.length);
    for (let k = 0; k < this.length; k++) {
      const u = random.next() * total;
      // First i with cumulative[i] > u: zero weights (equal running sums) are never picked.
      let lo = 0;
      let hi = c.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (c[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      out[k] = lo;
    }
    return out;
  }

  // Efraimidis-Spirakis: keys log(u) / w, the largest first, is the same distribution as drawing
  // one index at a time with probability proportional to the weights left.
  private withoutReplacement(random: Random): number[] {
    const keyed: { index: number; key: number }[] = [];
    this.weights.forEach((w, index) => {
      const u = random.next();
      if (w > 0) keyed.push({ index, key: Math.log(1 - u) / w });
    });
    keyed.sort((a, b) => b.key - a.key || a.index - b.index);
    return keyed.slice(0, this.length).map((k) => k.index);
  }
}
