// Views over datasets: a Subset picks indices of one, a ConcatDataset chains several, as
// torch.utils.data's. Neither decodes anything itself; get() forwards to the dataset below.
import { checkInt, invalidParameterError, outOfRangeError, show } from '../validate.js';
import type { Dataset, Sample, SampleMeta } from './dataset.js';

function checkDataset(where: string, name: string, dataset: unknown): Dataset {
  const d = dataset as Dataset;
  if (typeof d !== 'object' || d === null || typeof d.get !== 'function' || typeof d.length !== 'number')
    throw invalidParameterError(where, name, 'a Dataset (an object with length and get(index))', dataset);
  checkInt(where, `${name}.length`, d.length, { min: 0 });
  return d;
}

function checkIndex(where: string, index: number, length: number): number {
  return checkInt(where, 'index', index, { min: 0, max: length - 1 });
}

/** Dataset properties every part must agree on to be batched together. */
const SHARED = ['classes', 'channels', 'ignoreIndex'] as const;

/** The samples of `dataset` at `indices`, in that order (torch.utils.data.Subset). */
export class Subset implements Dataset {
  readonly dataset: Dataset;
  readonly indices: readonly number[];
  readonly classes?: number;
  readonly channels?: number;
  readonly ignoreIndex?: number;

  constructor(dataset: Dataset, indices: readonly number[]) {
    this.dataset = checkDataset('Subset', 'dataset', dataset);
    if (!Array.isArray(indices)) throw invalidParameterError('Subset', 'indices', 'an array of integers', indices);
    const n = dataset.length;
    this.indices = indices.map((v, i) => {
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < n) return v;
      return checkInt('Subset', `indices[${i}]`, v, { min: 0, max: n - 1 });
    });
    for (const key of SHARED) if (dataset[key] !== undefined) this[key] = dataset[key];
    if (dataset.metaAt === undefined) this.metaAt = undefined;
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number): Promise<Sample> {
    try {
      return this.dataset.get(this.indices[checkIndex('Subset.get', index, this.indices.length)]!);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  metaAt?(index: number): SampleMeta {
    return this.dataset.metaAt!(this.indices[checkIndex('Subset.metaAt', index, this.indices.length)]!);
  }
}

/**
 * Several datasets one after the other (torch.utils.data.ConcatDataset). Their classes, channels
 * and ignoreIndex must agree where they are given, since their samples end up in one batch.
 */
export class ConcatDataset implements Dataset {
  readonly datasets: readonly Dataset[];
  /** Running totals of the datasets' lengths, as PyTorch's `cumulative_sizes`. */
  readonly cumulativeSizes: readonly number[];
  readonly classes?: number;
  readonly channels?: number;
  readonly ignoreIndex?: number;

  constructor(datasets: readonly Dataset[]) {
    const where = 'ConcatDataset';
    if (!Array.isArray(datasets) || datasets.length === 0)
      throw invalidParameterError(where, 'datasets', 'a non-empty array of datasets', datasets);
    this.datasets = datasets.map((d, i) => checkDataset(where, `datasets[${i}]`, d));
    let total = 0;
    this.cumulativeSizes = this.datasets.map((d) => (total += d.length));
    for (const key of SHARED) {
      const given = this.datasets.map((d) => d[key]);
      const first = given.findIndex((v) => v !== undefined);
      if (first < 0) continue;
      const other = given.findIndex((v) => v !== undefined && v !== given[first]);
      if (other >= 0)
        throw outOfRangeError(where, `datasets[${other}].${key}`, `${show(given[first])} (as datasets[${first}].${key})`, given[other]);
      this[key] = given[first];
    }
    if (this.datasets.some((d) => d.metaAt === undefined)) this.metaAt = undefined;
  }

  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1]!;
  }

  /** The dataset holding `index`, and the index within it. */
  locate(index: number): { dataset: Dataset; index: number } {
    checkIndex('ConcatDataset', index, this.length);
    let lo = 0;
    let hi = this.cumulativeSizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulativeSizes[mid]! > index) hi = mid;
      else lo = mid + 1;
    }
    return { dataset: this.datasets[lo]!, index: index - (lo === 0 ? 0 : this.cumulativeSizes[lo - 1]!) };
  }

  get(index: number): Promise<Sample> {
    try {
      const at = this.locate(index);
      return at.dataset.get(at.index);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  metaAt?(index: number): SampleMeta {
    const at = this.locate(index);
    return at.dataset.metaAt!(at.index);
  }
}
