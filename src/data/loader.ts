// The DataLoader: batches of a dataset, decoded ahead of the consumer. dataset.get is async
// (sharp decodes on libuv's pool), so upcoming samples decode while the consumer computes on
// the current batch; collating and the transform run torch ops, so they run here, on the JS
// thread, when the consumer asks for the batch. What a batch holds and how it is augmented
// depends on (seed, epoch, batch index) only, never on prefetch, concurrency or timing.
import type { Transform } from './augment/transform.js';
import { checkInt, invalidParameterError, readOptions, show } from '../validate.js';
import { defaultCollate, disposeSample } from './collate.js';
import type { Batch, Dataset, Sample } from './dataset.js';
import { Random } from './random.js';
import { RandomSampler, type Sampler, SequentialSampler } from './samplers.js';
import { isTensor } from '../torch/index.js';

/** Options of `DataLoader`, named as torch.utils.data.DataLoader's. */
export interface DataLoaderOptions {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** A new random order every epoch (default false); exclusive with `sampler`, as PyTorch. */
  shuffle?: boolean;
  /** Seed of the shuffle, the sampler and the transform (default 0). */
  seed?: number;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** Which indices an epoch visits (default sequential, or random with `shuffle`). */
  sampler?: Sampler;
  /** Batches decoded ahead of the one the consumer holds (default 2); 0 decodes on demand. */
  prefetch?: number;
  /** Applied to each collated batch with `Random.derive(seed, epoch, batchIndex)`. */
  transform?: Transform;
  /** Samples decoded at once (default 2 * batchSize). */
  concurrency?: number;
}

const KEYS = ['batchSize', 'shuffle', 'seed', 'dropLast', 'sampler', 'prefetch', 'transform', 'concurrency'];

const isSampler = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && typeof (v as Sampler).indices === 'function' && typeof (v as Sampler).length === 'number';
const isTransform = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as Transform).apply === 'function';

/**
 * Batches of a dataset as an async iterable (torch.utils.data.DataLoader):
 *
 *   const loader = new DataLoader(train, { batchSize: 8, shuffle: true, seed: 1 });
 *   for await (const { image, mask } of loader) { ...; image.dispose(); mask.dispose(); }
 *
 * The consumer owns each batch it receives. Breaking out of the loop disposes the samples
 * decoded ahead. Each full pass advances the epoch, which reshuffles from (seed, epoch).
 */
export class DataLoader implements AsyncIterable<Batch> {
  readonly dataset: Dataset;
  readonly sampler: Sampler;
  readonly batchSize: number;
  readonly dropLast: boolean;
  readonly seed: number;
  readonly prefetch: number;
  readonly concurrency: number;
  readonly transform?: Transform;
  private currentEpoch = 0;

  constructor(dataset: Dataset, options?: DataLoaderOptions) {
    const where = 'DataLoader';
    if (typeof dataset !== 'object' || dataset === null || typeof dataset.get !== 'function')
      throw invalidParameterError(where, 'dataset', 'a Dataset (an object with length and get(index))', dataset);
    checkInt(where, 'dataset.length', dataset.length, { min: 0 });
    this.dataset = dataset;
    const o = readOptions(where, options, KEYS);
    this.batchSize = o.int('batchSize', 1);
    const shuffle = o.bool('shuffle', false);
    this.seed = o.int('seed', 0, {});
    this.dropLast = o.bool('dropLast', false);
    this.prefetch = o.int('prefetch', 2, { min: 0 });
    this.concurrency = o.int('concurrency', 2 * this.batchSize);
    this.transform = o.custom<Transform | undefined>(
      'transform',
      undefined,
      (v) => v === undefined || isTransform(v),
      'a Transform (an object with apply(batch, random))',
    );
    const sampler = o.custom<Sampler | undefined>(
      'sampler',
      undefined,
      (v) => v === undefined || isSampler(v),
      'a Sampler (an object with length and indices(epoch, seed))',
    );
    if (sampler !== undefined && shuffle)
      throw invalidParameterError(
        where,
        'shuffle',
        'false when a sampler is given (the sampler decides the order, as in PyTorch)',
        shuffle,
      );
    this.sampler = sampler ?? (shuffle ? new RandomSampler(dataset) : new SequentialSampler(dataset));
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.sampler.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The epoch the next iteration runs. */
  get epoch(): number {
    return this.currentEpoch;
  }

  /** Sets the epoch the next iteration runs (DistributedSampler.set_epoch); iterating to the end also advances it. */
  setEpoch(epoch: number): void {
    this.currentEpoch = checkInt('DataLoader.setEpoch', 'epoch', epoch, { min: 0 });
  }

  /** The dataset indices of each batch of `epoch` (default the current one). */
  batchIndices(epoch = this.currentEpoch): number[][] {
    checkInt('DataLoader.batchIndices', 'epoch', epoch, { min: 0 });
    const indices = this.sampler.indices(epoch, this.seed);
    if (!Array.isArray(indices))
      throw new TypeError(`DataLoader: sampler.indices(${epoch}, ${this.seed}) must return an array, got ${show(indices)}`);
    const n = this.dataset.length;
    indices.forEach((v, i) => {
      if (!(Number.isInteger(v) && v >= 0 && v < n))
        throw new RangeError(
          `DataLoader: sampler gave index ${show(v)} at position ${i}, expected an integer from 0 to ${n - 1} (dataset of ${n} samples)`,
        );
    });
    const batches: number[][] = [];
    for (let i = 0; i < indices.length; i += this.batchSize) {
      const batch = indices.slice(i, i + this.batchSize);
      if (batch.length < this.batchSize && this.dropLast) break;
      batches.push(batch);
    }
    return batches;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Batch> {
    const epoch = this.currentEpoch;
    return new EpochIterator(this, epoch, this.batchIndices(epoch), () => {
      if (this.currentEpoch === epoch) this.currentEpoch = epoch + 1;
    });
  }
}

type Slot = { sample: Sample } | { error: unknown } | undefined;

/** One pass over the batches of one epoch. */
class EpochIterator implements AsyncIterableIterator<Batch> {
  private readonly positions: number[];
  private readonly results: Slot[];
  private started = 0;
  private inFlight = 0;
  /** The batch the consumer asks for next. */
  private cursor = 0;
  private waiting = false;
  private closed = false;
  private wake: (() => void) | null = null;
  private idle: (() => void) | null = null;
  private drained: Promise<void> | null = null;
  /** next() calls run one after another, as a for-await loop makes them. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly loader: DataLoader,
    private readonly epoch: number,
    private readonly batches: number[][],
    private readonly finishEpoch: () => void,
  ) {
    this.positions = batches.flat();
    this.results = new Array<Slot>(this.positions.length);
    if (batches.length === 0) finishEpoch();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Batch> {
    return this;
  }

  next(): Promise<IteratorResult<Batch>> {
    const result = this.queue.then(() => this.step());
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async step(): Promise<IteratorResult<Batch>> {
    if (this.closed || this.cursor >= this.batches.length) return { done: true, value: undefined };
    const b = this.cursor;
    const first = b * this.loader.batchSize;
    const last = first + this.batches[b]!.length;
    this.waiting = true;
    this.pump();
    while (!this.settled(first, last)) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      if (this.closed) return { done: true, value: undefined };
    }
    this.waiting = false;
    const failed = this.results.slice(first, last).findIndex((r) => r !== undefined && 'error' in r);
    if (failed >= 0) {
      const pos = first + failed;
      const cause = (this.results[pos] as { error: unknown }).error;
      await this.close();
      throw this.sampleError(pos, b, cause);
    }
    const samples: Sample[] = [];
    for (let p = first; p < last; p++) {
      samples.push((this.results[p] as { sample: Sample }).sample);
      this.results[p] = undefined;
    }
    this.cursor++;
    // Start the next samples decoding before the synchronous collate and transform.
    this.pump();
    let batch: Batch;
    try {
      batch = this.assemble(samples, b);
    } catch (e) {
      await this.close();
      throw e;
    }
    if (this.cursor === this.batches.length) this.finishEpoch();
    return { done: false, value: batch };
  }

  /** Stops the pass: disposes samples decoded ahead, and those still decoding once they arrive. */
  async return(): Promise<IteratorResult<Batch>> {
    await this.close();
    return { done: true, value: undefined };
  }

  private assemble(samples: Sample[], b: number): Batch {
    let collated: Batch;
    try {
      collated = defaultCollate(samples);
    } catch (e) {
      const Kind = e instanceof RangeError ? RangeError : e instanceof TypeError ? TypeError : Error;
      throw new Kind(`DataLoader: batch ${b} of epoch ${this.epoch}: ${message(e)}`, { cause: e });
    }
    const transform = this.loader.transform;
    if (transform === undefined) return collated;
    const random = Random.derive(this.loader.seed, this.epoch, b);
    let out: Batch;
    try {
      out = transform.apply(collated, random);
    } catch (e) {
      disposeSample(collated);
      throw new Error(`DataLoader: transform ${show(transform.name)} failed on batch ${b} of epoch ${this.epoch}: ${message(e)}`, {
        cause: e,
      });
    }
    if (typeof out !== 'object' || out === null || !isTensor(out.image) || !isTensor(out.mask) || !Array.isArray(out.meta)) {
      disposeSample(collated);
      disposeSample(out);
      throw new TypeError(`DataLoader: transform ${show(transform.name)} must return a batch { image, mask, meta }, got ${show(out)}`);
    }
    return out;
  }

  private settled(first: number, last: number): boolean {
    for (let p = first; p < last; p++) if (this.results[p] === undefined) return false;
    return true;
  }

  /** Starts decodes up to `prefetch` batches beyond the one held or awaited, `concurrency` at once. */
  private pump(): void {
    const { batchSize, prefetch, concurrency } = this.loader;
    const horizon = Math.min(this.positions.length, (this.cursor + prefetch + (this.waiting ? 1 : 0)) * batchSize);
    while (!this.closed && this.inFlight < concurrency && this.started < horizon) this.launch(this.started++);
  }

  private launch(pos: number): void {
    const index = this.positions[pos]!;
    this.inFlight++;
    let pending: Promise<Sample>;
    try {
      pending = Promise.resolve(this.loader.dataset.get(index));
    } catch (e) {
      pending = Promise.reject(e);
    }
    pending.then(
      (sample) => this.arrive(pos, index, sample, true),
      (error) => this.arrive(pos, index, error, false),
    );
  }

  private arrive(pos: number, index: number, value: unknown, ok: boolean): void {
    this.inFlight--;
    if (ok && !isSample(value)) {
      disposeSample(value);
      value = new TypeError(`dataset.get(${index}) must resolve to a sample { image: Tensor, mask: Tensor, meta }, got ${show(value)}`);
      ok = false;
    }
    if (this.closed) {
      if (ok) disposeSample(value);
      if (this.inFlight === 0) this.idle?.();
      return;
    }
    this.results[pos] = ok ? { sample: value as Sample } : { error: value };
    this.pump();
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const r of this.results) if (r !== undefined && 'sample' in r) disposeSample(r.sample);
      this.results.fill(undefined);
      const wake = this.wake;
      this.wake = null;
      wake?.();
    }
    // Wait for the decodes in flight, so that nothing they make outlives the pass.
    if (this.inFlight > 0) this.drained ??= new Promise<void>((resolve) => (this.idle = resolve));
    if (this.drained) await this.drained;
  }

  private sampleError(pos: number, batch: number, cause: unknown): Error {
    const index = this.positions[pos]!;
    let name = '';
    try {
      const meta = this.loader.dataset.metaAt?.(index);
      if (meta && typeof meta.name === 'string') name = ` ('${meta.name}')`;
    } catch {
      // The name only decorates the message; a dataset that cannot give it still reports the error.
    }
    return new Error(`DataLoader: sample ${index}${name} failed to load (batch ${batch} of epoch ${this.epoch}): ${message(cause)}`, {
      cause,
    });
  }
}

function isSample(s: unknown): s is Sample {
  return typeof s === 'object' && s !== null && isTensor((s as Sample).image) && isTensor((s as Sample).mask);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : show(e);
}
