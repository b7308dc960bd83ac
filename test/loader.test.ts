// DataLoader, collate, samplers and dataset views on an in-memory dataset whose samples are
// made from their index after a random delay, so decodes finish out of order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { torch } from '../src/index.js';
import type { Batch, Dataset, Sample, SampleMeta } from '../src/data/dataset.js';
import type { Transform } from '../src/data/augment/transform.js';
import { DataLoader } from '../src/data/loader.js';
import { defaultCollate } from '../src/data/collate.js';
import { Random } from '../src/data/random.js';
import { RandomSampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler } from '../src/data/samplers.js';
import { ConcatDataset, Subset } from '../src/data/subset.js';
import { assertThrows, tensorTest } from './helpers.js';

/** Sample i: image [1, 2, 2] filled with i, mask [2, 2] filled with i % 3, name `s<i>`. */
class IndexDataset implements Dataset {
  readonly channels = 1;
  active = 0;
  maxActive = 0;
  started: number[] = [];
  private readonly delays: Random;

  constructor(
    readonly length: number,
    private readonly opts: { maxDelayMs?: number; delayMs?: number; failAt?: number; delaySeed?: number } = {},
  ) {
    this.delays = new Random(opts.delaySeed ?? 1);
  }

  metaAt(i: number): SampleMeta {
    return { name: `s${i}`, path: `mem://${i}` };
  }

  async get(i: number): Promise<Sample> {
    this.started.push(i);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    await sleep(this.opts.delayMs ?? this.delays.next() * (this.opts.maxDelayMs ?? 4));
    this.active--;
    if (i === this.opts.failAt) throw new Error(`cannot decode s${i}: truncated file`);
    return { image: torch.full([1, 2, 2], i), mask: torch.full([2, 2], i % 3, { dtype: 'int64' }), meta: this.metaAt(i) };
  }
}

/** Adds a per-batch random integer to the images: shows which Random each batch got. */
const addNoise: Transform = {
  name: 'addNoise',
  apply(batch: Batch, random: Random): Batch {
    const image = batch.image.add(random.int(1000) * 100);
    batch.image.dispose();
    return { ...batch, image };
  },
};

/** What each batch held: its image values per sample and its names; disposes the batches. */
async function drain(loader: AsyncIterable<Batch>): Promise<{ values: number[][]; names: string[][] }> {
  const values: number[][] = [];
  const names: string[][] = [];
  for await (const batch of loader) {
    const n = batch.image.shape[0]!;
    const flat = batch.image.toArray();
    values.push(Array.from({ length: n }, (_, i) => Number(flat[i * 4]!)));
    names.push(batch.meta.map((m) => m.name));
    batch.image.dispose();
    batch.mask.dispose();
  }
  return { values, names };
}

tensorTest('batches in order, the last one partial; masks and meta follow their images', async () => {
  const loader = new DataLoader(new IndexDataset(10), { batchSize: 3 });
  assert.equal(loader.length, 4);
  const shapes: number[][] = [];
  const masks: number[][] = [];
  for await (const batch of loader) {
    shapes.push([...batch.image.shape]);
    assert.equal(batch.mask.dtype, 'int64');
    masks.push(Array.from(batch.mask.toArray(), Number).filter((_, i) => i % 4 === 0));
    batch.image.dispose();
    batch.mask.dispose();
  }
  assert.deepEqual(shapes, [
    [3, 1, 2, 2],
    [3, 1, 2, 2],
    [3, 1, 2, 2],
    [1, 1, 2, 2],
  ]);
  assert.deepEqual(masks, [[0, 1, 2], [0, 1, 2], [0, 1, 2], [0]]);
  const again = await drain(new DataLoader(new IndexDataset(10), { batchSize: 3 }));
  assert.deepEqual(again.values, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
  assert.deepEqual(again.names[3], ['s9']);
});

tensorTest('dropLast drops the partial batch', async () => {
  const loader = new DataLoader(new IndexDataset(10), { batchSize: 3, dropLast: true });
  assert.equal(loader.length, 3);
  assert.deepEqual((await drain(loader)).values, [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
  ]);
  assert.equal(new DataLoader(new IndexDataset(2), { batchSize: 3, dropLast: true }).length, 0);
  assert.deepEqual((await drain(new DataLoader(new IndexDataset(2), { batchSize: 3, dropLast: true }))).values, []);
});

tensorTest('order and augmentation are the same for any prefetch and concurrency', async () => {
  const runs: number[][][] = [];
  let delaySeed = 0;
  for (const prefetch of [0, 1, 4]) {
    for (const concurrency of [1, 8]) {
      const dataset = new IndexDataset(23, { maxDelayMs: 6, delaySeed: ++delaySeed });
      const loader = new DataLoader(dataset, { batchSize: 4, shuffle: true, seed: 7, prefetch, concurrency, transform: addNoise });
      runs.push((await drain(loader)).values);
      assert.ok(dataset.maxActive <= concurrency, `at most ${concurrency} decodes at once, saw ${dataset.maxActive}`);
      if (concurrency === 8 && prefetch === 4) assert.ok(dataset.maxActive > 4, 'decodes overlap across batches');
    }
  }
  for (const run of runs.slice(1)) assert.deepEqual(run, runs[0]);
  // Undo the noise: each batch's values are dataset indices plus one multiple of 100 per batch.
  const indices = runs[0]!.flat().map((v) => v % 100);
  assert.deepEqual(
    [...indices].sort((a, b) => a - b),
    Array.from({ length: 23 }, (_, i) => i),
  );
  assert.notDeepEqual(
    indices,
    Array.from({ length: 23 }, (_, i) => i),
  );
  const noise = runs[0]!.map((b) => Math.floor(b[0]! / 100));
  assert.equal(new Set(noise).size, noise.length, 'each batch draws its own random numbers');
  for (const [b, values] of runs[0]!.entries()) for (const v of values) assert.equal(Math.floor(v / 100), noise[b]);
});

tensorTest('shuffle: a new order each epoch, the same order for the same (seed, epoch)', async () => {
  const order = async (loader: DataLoader) => (await drain(loader)).values.flat();
  const a = new DataLoader(new IndexDataset(12), { batchSize: 5, shuffle: true, seed: 3 });
  assert.equal(a.epoch, 0);
  const a0 = await order(a);
  assert.equal(a.epoch, 1, 'a full pass advances the epoch');
  const a1 = await order(a);
  assert.notDeepEqual(a0, a1);
  for (const o of [a0, a1])
    assert.deepEqual(
      [...o].sort((x, y) => x - y),
      Array.from({ length: 12 }, (_, i) => i),
    );
  const b = new DataLoader(new IndexDataset(12, { delaySeed: 9 }), { batchSize: 5, shuffle: true, seed: 3, prefetch: 0 });
  assert.deepEqual(await order(b), a0);
  b.setEpoch(1);
  assert.deepEqual(await order(b), a1);
  const c = new DataLoader(new IndexDataset(12), { batchSize: 5, shuffle: true, seed: 4 });
  assert.notDeepEqual(await order(c), a0, 'another seed, another order');
  assertThrows(() => b.setEpoch(-1), RangeError, /DataLoader.setEpoch: epoch must be a non-negative integer, got -1/);
});

tensorTest('breaking out early disposes every sample decoded ahead, and keeps the epoch', async () => {
  const dataset = new IndexDataset(40, { maxDelayMs: 8 });
  const loader = new DataLoader(dataset, { batchSize: 4, prefetch: 4, concurrency: 8, shuffle: true });
  let taken = 0;
  for await (const batch of loader) {
    batch.image.dispose();
    batch.mask.dispose();
    if (++taken === 2) break;
  }
  assert.equal(dataset.active, 0, 'return() waits for decodes in flight');
  assert.ok(dataset.started.length > 8, 'samples beyond the two batches were decoding');
  assert.equal(loader.epoch, 0);
  const it = loader[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal(first.done, false);
  torch.dispose(first.value);
  assert.deepEqual(await it.return!(), { done: true, value: undefined });
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

tensorTest('a rejecting get reaches the consumer with the index and name, and leaks nothing', async () => {
  const dataset = new IndexDataset(20, { failAt: 7, maxDelayMs: 5 });
  const loader = new DataLoader(dataset, { batchSize: 3, prefetch: 3, concurrency: 6 });
  const seen: number[][] = [];
  await assert.rejects(
    async () => {
      for await (const batch of loader) {
        seen.push(Array.from(batch.image.toArray(), Number).filter((_, i) => i % 4 === 0));
        torch.dispose(batch);
      }
    },
    (e: Error) => {
      assert.match(e.message, /^DataLoader: sample 7 \('s7'\) failed to load \(batch 2 of epoch 0\): cannot decode s7: truncated file$/);
      assert.match((e.cause as Error).message, /truncated file/);
      return true;
    },
  );
  assert.deepEqual(seen, [
    [0, 1, 2],
    [3, 4, 5],
  ]);
  assert.equal(dataset.active, 0, 'in-flight decodes settled before the error surfaced');
  assert.equal(loader.epoch, 0);
});

tensorTest('a get that resolves to something other than a sample is an error naming it', async () => {
  const bad: Dataset = { length: 2, get: async (i) => (i === 1 ? ({ image: 'x' } as unknown as Sample) : new IndexDataset(2).get(i)) };
  await assert.rejects(
    drain(new DataLoader(bad, { batchSize: 2 })),
    /sample 1 failed to load .*must resolve to a sample \{ image: Tensor, mask: Tensor, meta \}, got an object/,
  );
});

tensorTest('a transform that throws is reported by name; the batch is disposed', async () => {
  const broken: Transform = {
    name: 'broken',
    apply: () => {
      throw new Error('no such mode');
    },
  };
  await assert.rejects(
    drain(new DataLoader(new IndexDataset(6), { batchSize: 2, transform: broken })),
    /^Error: DataLoader: transform 'broken' failed on batch 0 of epoch 0: no such mode$/,
  );
});

tensorTest('samples of different sizes: the batch and the samples are named, nothing leaks', async () => {
  const base = new IndexDataset(4);
  const ragged: Dataset = {
    length: 4,
    metaAt: (i) => base.metaAt(i),
    get: async (i) => {
      const s = await base.get(i);
      if (i !== 2) return s;
      s.image.dispose();
      return { ...s, image: torch.full([1, 3, 3], i) };
    },
  };
  await assert.rejects(
    drain(new DataLoader(ragged, { batchSize: 2, prefetch: 1 })),
    (e: Error) =>
      e instanceof RangeError &&
      /^DataLoader: batch 1 of epoch 0: defaultCollate: images must share shape and dtype to be stacked, got float32 \[1, 3, 3\] for sample 's2' and float32 \[1, 2, 2\] for sample 's3'/.test(
        e.message,
      ),
  );
});

test('prefetch decodes the next batches while the consumer computes', async () => {
  const ms = 30;
  const batches = 8;
  const serial = 2 * ms * batches;
  const time = async (prefetch: number, concurrency: number) => {
    const start = performance.now();
    for await (const batch of new DataLoader(new IndexDataset(batches, { delayMs: ms }), { prefetch, concurrency })) {
      torch.dispose(batch);
      await sleep(ms); // the consumer's compute
    }
    return performance.now() - start;
  };
  const none = await time(0, 1);
  const ahead = await time(2, 2);
  assert.ok(none >= 0.95 * serial, `without prefetch decode and compute add up: ${none.toFixed(0)} ms vs ${serial} ms`);
  assert.ok(ahead < 0.75 * serial, `with prefetch they overlap: ${ahead.toFixed(0)} ms vs the serial ${serial} ms`);
});

test('DataLoader options are checked', () => {
  const d = new IndexDataset(4);
  assertThrows(() => new DataLoader(d, { batchSize: 0 }), RangeError, /^DataLoader: batchSize must be a positive integer, got 0$/);
  assertThrows(() => new DataLoader(d, { prefetch: -1 }), RangeError, /^DataLoader: prefetch must be a non-negative integer, got -1$/);
  assertThrows(() => new DataLoader(d, { concurrency: 1.5 }), RangeError, /concurrency must be a positive integer, got 1.5/);
  assertThrows(() => new DataLoader(d, { batch_size: 2 } as never), TypeError, /unknown option 'batch_size'.*did you mean 'batchSize'\?/);
  assertThrows(
    () => new DataLoader(d, { shuffle: true, sampler: new SequentialSampler(d) }),
    TypeError,
    /shuffle must be false when a sampler is given/,
  );
  assertThrows(() => new DataLoader(d, { transform: ((b: Batch) => b) as never }), TypeError, /transform must be a Transform/);
  assertThrows(() => new DataLoader({} as Dataset), TypeError, /^DataLoader: dataset must be a Dataset/);
  const wrong = new DataLoader(d, { sampler: { length: 1, indices: () => [4] } });
  assertThrows(() => wrong.batchIndices(), RangeError, /sampler gave index 4 at position 0, expected an integer from 0 to 3/);
});

tensorTest('a sampler decides the indices; the loader batches them', async () => {
  const sampler = new SubsetRandomSampler([1, 3, 5, 7, 9]);
  const loader = new DataLoader(new IndexDataset(10), { batchSize: 2, sampler, seed: 5 });
  assert.equal(loader.length, 3);
  const got = (await drain(loader)).values;
  assert.deepEqual(got.flat(), sampler.indices(0, 5));
  assert.deepEqual(
    got.flat().sort((a, b) => a - b),
    [1, 3, 5, 7, 9],
  );
  assert.notDeepEqual(sampler.indices(1, 5), sampler.indices(0, 5));
});

test('SequentialSampler and RandomSampler follow PyTorch', () => {
  assert.deepEqual(new SequentialSampler(4).indices(3, 9), [0, 1, 2, 3]);
  const r = new RandomSampler({ length: 6 });
  assert.equal(r.length, 6);
  assert.deepEqual(r.indices(2, 1), r.indices(2, 1));
  assert.deepEqual(
    r.indices(2, 1).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5],
  );
  // numSamples beyond the length without replacement: whole permutations, the last one cut.
  const long = new RandomSampler(4, { numSamples: 10 }).indices(0, 3);
  assert.equal(long.length, 10);
  for (const part of [long.slice(0, 4), long.slice(4, 8)])
    assert.deepEqual(
      part.sort((a, b) => a - b),
      [0, 1, 2, 3],
    );
  assert.equal(new Set(long.slice(8)).size, 2);
  const drawn = new RandomSampler(3, { replacement: true, numSamples: 300 }).indices(0, 1);
  assert.ok(drawn.every((i) => i >= 0 && i < 3));
  assert.ok(new Set(drawn.slice(0, 10)).size < 10 && [0, 1, 2].every((i) => drawn.includes(i)));
  assertThrows(() => new RandomSampler(3, { numSamples: 0 }), RangeError, /RandomSampler: numSamples must be a positive integer, got 0/);
  assertThrows(() => new RandomSampler(3, { replacment: true } as never), TypeError, /did you mean 'replacement'/);
});

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
function chiSquare(counts: number[], p: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.reduce((s, c, i) => s + (c - n * p[i]!) ** 2 / (n * p[i]!), 0);
}
// The chi-square distribution's 0.999 quantile for 3 degrees of freedom.
const CHI2_3DOF_999 = 16.27;

test('WeightedRandomSampler draws with the weights: chi-square within bounds', () => {
  const w = [1, 2, 3, 4];
  const withReplacement = new WeightedRandomSampler(w, 20000).indices(0, 11);
  const counts = [0, 0, 0, 0];
  for (const i of withReplacement) counts[i]!++;
  const stat = chiSquare(counts, [0.1, 0.2, 0.3, 0.4]);
  assert.ok(stat < CHI2_3DOF_999, `chi-square ${stat.toFixed(2)} for counts ${counts}`);
  // A uniform draw would fail the same test: the check has teeth.
  assert.ok(chiSquare(counts, [0.25, 0.25, 0.25, 0.25]) > 1000);

  // Without replacement: the first draw follows the weights, the second P(j) = sum_i w_i/W * w_j/(W - w_i).
  const sampler = new WeightedRandomSampler(w, 2, { replacement: false });
  const first = [0, 0, 0, 0];
  const second = [0, 0, 0, 0];
  for (let epoch = 0; epoch < 20000; epoch++) {
    const [a, b] = sampler.indices(epoch, 2);
    assert.notEqual(a, b);
    first[a!]!++;
    second[b!]!++;
  }
  const expectedSecond = w.map((wj, j) => w.reduce((s, wi, i) => (i === j ? s : s + (wi / 10) * (wj / (10 - wi))), 0));
  assert.ok(Math.abs(expectedSecond.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.ok(chiSquare(first, [0.1, 0.2, 0.3, 0.4]) < CHI2_3DOF_999, `first draws ${first}`);
  assert.ok(chiSquare(second, expectedSecond) < CHI2_3DOF_999, `second draws ${second} vs ${expectedSecond.map((p) => p.toFixed(3))}`);

  const zeros = new WeightedRandomSampler([0, 1, 0, 1], 50);
  assert.ok(
    zeros.indices(0, 0).every((i) => i === 1 || i === 3),
    'zero weights are never drawn',
  );
  assertThrows(
    () => new WeightedRandomSampler([0, 1, 0, 1], 3, { replacement: false }),
    RangeError,
    /numSamples must be at most 2 \(the number of positive weights\) without replacement, got 3/,
  );
  assertThrows(
    () => new WeightedRandomSampler([1, -1], 1),
    RangeError,
    /WeightedRandomSampler: weights\[1\] must be a non-negative number, got -1/,
  );
  assertThrows(() => new WeightedRandomSampler([0, 0], 1), RangeError, /weights must be an array with at least one positive weight/);
});

test('Random.derive: one stream per key tuple, independent of creation order', () => {
  const a = Random.derive(5, 1, 2).next();
  Random.derive(5, 9).next();
  assert.equal(Random.derive(5, 1, 2).next(), a);
  const streams = [Random.derive(5, 1, 2), Random.derive(5, 2, 1), Random.derive(5, 1), Random.derive(6, 1, 2), Random.derive(5, 1, 2, 0)];
  assert.equal(new Set(streams.map((r) => r.next())).size, streams.length);
  assertThrows(() => Random.derive(5, 1.5), RangeError, /Random.derive: keys\[0\] must be an integer, got 1.5/);
});

tensorTest('Subset and ConcatDataset forward get and metaAt', async () => {
  const a = new IndexDataset(5);
  const sub = new Subset(a, [4, 0, 2]);
  assert.equal(sub.length, 3);
  assert.equal(sub.channels, 1);
  assert.equal(sub.metaAt!(0).name, 's4');
  const s = await sub.get(2);
  assert.equal(s.image.toArray()[0], 2);
  torch.dispose(s);
  await assert.rejects(sub.get(3), /Subset.get: index must be an integer from 0 to 2, got 3/);
  assertThrows(() => new Subset(a, [0, 5]), RangeError, /Subset: indices\[1\] must be an integer from 0 to 4, got 5/);

  const cat = new ConcatDataset([a, sub, new IndexDataset(2)]);
  assert.equal(cat.length, 10);
  assert.deepEqual(cat.cumulativeSizes, [5, 8, 10]);
  assert.deepEqual(
    Array.from({ length: 10 }, (_, i) => cat.metaAt!(i).name),
    ['s0', 's1', 's2', 's3', 's4', 's4', 's0', 's2', 's0', 's1'],
  );
  assert.deepEqual((await drain(new DataLoader(cat, { batchSize: 4 }))).values.flat(), [0, 1, 2, 3, 4, 4, 0, 2, 0, 1]);
  const rgb: Dataset = { length: 1, channels: 3, get: () => a.get(0) };
  assertThrows(
    () => new ConcatDataset([a, rgb]),
    RangeError,
    /ConcatDataset: datasets\[1\].channels must be 1 \(as datasets\[0\].channels\), got 3/,
  );
  assert.equal(new ConcatDataset([a, { length: 1, get: () => a.get(0) }]).metaAt, undefined, 'metaAt only when every part has it');
});

tensorTest('collate stacks samples, and names the ones that do not fit', () => {
  const sample = (i: number, size: number): Sample => ({
    image: torch.full([3, size, size], i),
    mask: torch.zeros([size, size], { dtype: 'int64' }),
    meta: { name: `t${i}`, path: `t${i}.png` },
  });
  const batch = defaultCollate([sample(1, 4), sample(2, 4)]);
  assert.deepEqual([...batch.image.shape], [2, 3, 4, 4]);
  assert.deepEqual([...batch.mask.shape], [2, 4, 4]);
  assert.deepEqual(
    batch.meta.map((m) => m.name),
    ['t1', 't2'],
  );
  torch.dispose(batch);
  assertThrows(
    () => defaultCollate([sample(1, 4), sample(2, 4), sample(3, 5)]),
    RangeError,
    /images must share shape and dtype to be stacked, got float32 \[3, 4, 4\] for sample 't1' and float32 \[3, 5, 5\] for sample 't3'/,
  );
  assertThrows(() => defaultCollate([]), TypeError, /defaultCollate: samples must be a non-empty array of samples, got \[\]/);
});
