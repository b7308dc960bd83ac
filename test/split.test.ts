// Splits by name: properties over random inputs (fast-check), spatial blocks on the real
// Catanduanes tile names, and the split file's round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { torch } from '../src/index.js';
import type { Dataset, Sample, SampleMeta } from '../src/data/dataset.js';
import { spatialBlocks } from '../src/data/spatial-blocks.js';
import { applySplit, kFold, loadSplit, randomSplit, saveSplit, type Split } from '../src/data/split.js';
import { assertThrows, tensorTest } from './helpers.js';

const TILES = join(dirname(fileURLToPath(import.meta.url)), 'data', 'oam-catanduanes');

/** A dataset of named samples whose image holds the sample's position. */
function namedDataset(metas: SampleMeta[]): Dataset {
  return {
    length: metas.length,
    metaAt: (i) => metas[i]!,
    get: async (i): Promise<Sample> => ({
      image: torch.full([1, 1, 1], i),
      mask: torch.zeros([1, 1], { dtype: 'int64' }),
      meta: metas[i]!,
    }),
  };
}

const sorted = (names: readonly string[]) => [...names].sort();

function assertPartition(split: Split, names: readonly string[]): void {
  const all = Object.values(split.sides).flat();
  assert.equal(new Set(all).size, all.length, 'sides never overlap');
  assert.deepEqual(sorted(all), sorted(names), 'every name on one side');
}

function assertGroupsKept(split: Split, names: readonly string[], keys: readonly string[]): void {
  const sideOf = new Map<string, string>();
  for (const [side, list] of Object.entries(split.sides)) for (const n of list) sideOf.set(n, side);
  const groupSide = new Map<string, string>();
  names.forEach((n, i) => {
    const side = sideOf.get(n)!;
    const before = groupSide.get(keys[i]!);
    assert.ok(before === undefined || before === side, `group ${keys[i]} on ${before} and ${side}`);
    groupSide.set(keys[i]!, side);
  });
}

const namesArb = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 60 });

test('randomSplit: disjoint, complete, each side within 1 of its fraction', () => {
  fc.assert(
    fc.property(namesArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (names, f, seed) => {
      const split = randomSplit(names, [f, 1 - f], { seed });
      assertPartition(split, names);
      assert.ok(Math.abs(split.sides.train.length - names.length * f) < 1 + 1e-9);
      assert.ok(Math.abs(split.sides.val.length - names.length * (1 - f)) < 1 + 1e-9);
      assert.deepEqual(randomSplit(names, [f, 1 - f], { seed }), split, 'the same seed, the same split');
    }),
  );
  const three = randomSplit(
    Array.from({ length: 10 }, (_, i) => `n${i}`),
    { train: 0.7, val: 0.2, test: 0.1 },
    { seed: 1 },
  );
  assert.deepEqual(
    Object.entries(three.sides).map(([k, v]) => [k, v.length]),
    [
      ['train', 7],
      ['val', 2],
      ['test', 1],
    ],
  );
  assert.deepEqual(three.method, 'randomSplit');
  const counts = randomSplit(['a', 'b', 'c', 'd', 'e'], [3, 2]);
  assert.deepEqual([counts.sides.train.length, counts.sides.val.length], [3, 2]);
  const names = Array.from({ length: 50 }, (_, i) => `n${i}`);
  assert.notDeepEqual(randomSplit(names, [0.5, 0.5], { seed: 1 }).sides, randomSplit(names, [0.5, 0.5], { seed: 2 }).sides);
  assert.notDeepEqual(randomSplit(names, [0.5, 0.5]).sides.train, names.slice(0, 25), 'shuffled, not cut');
});

test('randomSplit checks its arguments', () => {
  assertThrows(
    () => randomSplit(['a', 'b'], [0.5, 0.4]),
    RangeError,
    /randomSplit: fractions must be fractions summing to 1 \(or counts summing to the 2 samples\), got \[0.5, 0.4\]/,
  );
  assertThrows(
    () => randomSplit(['a', 'b', 'a'], [0.5, 0.5]),
    TypeError,
    /randomSplit: names must be unique \(a split goes by name\), got \['a'\]/,
  );
  assertThrows(() => randomSplit(['a', 'b'], { train: 1, test: 0 }), TypeError, /fractions must be an object with 'train' and 'val'/);
  assertThrows(() => randomSplit(['a', 'b'], [0.5, 0.5], { Seed: 1 } as never), TypeError, /unknown option 'Seed'.*did you mean 'seed'/);
  assertThrows(
    () => randomSplit(['a', 'b'], [0.5, 0.5], { groups: ['x'] }),
    TypeError,
    /groups must be 'group', spatialBlocks\(...\) or an array of 2 strings/,
  );
  assertThrows(
    () => randomSplit({ length: 2, get: async () => ({}) as Sample }, [0.5, 0.5]),
    TypeError,
    /source must be a Dataset with metaAt\(index\)/,
  );
});

test('grouped randomSplit and kFold never put a group on two sides', () => {
  const grouped = fc
    .tuple(namesArb, fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 60, maxLength: 60 }))
    .map(([names, g]) => ({ names, keys: names.map((_, i) => `g${g[i]}`) }));
  fc.assert(
    fc.property(grouped, fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.integer(), ({ names, keys }, f, seed) => {
      const split = randomSplit(names, { train: f, val: 1 - f }, { seed, groups: keys });
      assertPartition(split, names);
      assertGroupsKept(split, names, keys);
      const largest = Math.max(...[...new Set(keys)].map((k) => keys.filter((x) => x === k).length));
      assert.ok(Math.abs(split.sides.train.length - names.length * f) <= largest + 1, 'sides miss their size by less than a group');
      assert.equal(split.params?.groupBy, 'keys');
    }),
  );
  fc.assert(
    fc.property(grouped, fc.integer({ min: 2, max: 5 }), fc.integer(), ({ names, keys }, k, seed) => {
      fc.pre(new Set(keys).size >= k);
      const folds = kFold(names, k, { seed, groups: keys });
      assert.equal(folds.length, k);
      assert.deepEqual(sorted(folds.flatMap((f) => f.sides.val)), sorted(names), 'each name in exactly one val fold');
      for (const fold of folds) {
        assertPartition(fold, names);
        assertGroupsKept(fold, names, keys);
        assert.ok(fold.sides.val.length > 0);
      }
    }),
  );
});

test('kFold without groups: folds differ in size by at most 1', () => {
  fc.assert(
    fc.property(namesArb, fc.integer({ min: 2, max: 6 }), fc.integer(), (names, k, seed) => {
      fc.pre(names.length >= k);
      const folds = kFold(names, k, { seed });
      const sizes = folds.map((f) => f.sides.val.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `fold sizes ${sizes}`);
      assert.deepEqual(sorted(folds.flatMap((f) => f.sides.val)), sorted(names));
      folds.forEach((f, i) => assert.deepEqual(f.params, { k, fold: i }));
    }),
  );
  assertThrows(() => kFold(['a', 'b'], 3), RangeError, /kFold: k must be at most 2 \(the number of samples\), got 3/);
  assertThrows(() => kFold(['a', 'b'], 1), RangeError, /kFold: k must be an integer >= 2, got 1/);
});

test('spatialBlocks on the Catanduanes tiles: no z19 ground on both sides', async () => {
  const names = (await readdir(TILES)).filter((f) => f.endsWith('.png')).map((f) => f.replace(/\.png$/, ''));
  assert.equal(names.length, 84);
  const blocks = spatialBlocks(names);
  assert.equal(blocks.params?.blockZoom, 19, 'the lowest zoom present');
  // The ancestor at z19, computed here from the names independently of the library.
  const z19 = names.map((n) => {
    const [x, y, z] = n.split('-').slice(1).map(Number) as [number, number, number];
    return `${x >> (z - 19)},${y >> (z - 19)}`;
  });
  assert.equal(new Set(z19).size, 4);
  for (const seed of [0, 1, 2, 3]) {
    const split = randomSplit(names, { train: 0.8, val: 0.2 }, { seed, groups: blocks });
    assertPartition(split, names);
    assertGroupsKept(split, names, z19);
    assert.deepEqual([split.sides.train.length, split.sides.val.length], [63, 21]);
    assert.deepEqual(split.params, { groupBy: 'spatialBlocks', blockZoom: 19 });
  }
  // A split that ignores the blocks does leak ground: the check above can fail.
  const naive = randomSplit(names, { train: 0.8, val: 0.2 }, { seed: 0 });
  assert.throws(() => assertGroupsKept(naive, names, z19), /on (train|val) and (train|val)/);
  // Finer blocks: 16 at z20; the z19 tiles cannot sit inside one.
  const z20 = spatialBlocks(
    names.filter((n) => !n.endsWith('-19')),
    { blockZoom: 20 },
  );
  assert.equal(new Set(z20.keys).size, 16);
  assertThrows(
    () => spatialBlocks(names, { blockZoom: 20 }),
    RangeError,
    /blockZoom must be at most 19, the zoom of sample 'OAM-\d+-\d+-19'/,
  );
  assertThrows(() => spatialBlocks(['a-b']), TypeError, /sample 'a-b' has no meta.tile and its name does not end in <x>-<y>-<z>/);
});

test('spatialBlocks over windows: pixel blocks per raster, metre blocks through the transform', () => {
  // 256 px windows of two rasters, striding 128 px (so neighbours overlap).
  const metas: SampleMeta[] = [];
  for (const path of ['a.tif', 'b.tif'])
    for (let y = 0; y < 1024; y += 128)
      for (let x = 0; x < 1024; x += 128)
        metas.push({
          name: `${path}@${x},${y}`,
          path,
          window: { x, y, width: 256, height: 256 },
          // 0.5 m pixels; b.tif lies 256 m (512 px) east of a.tif, so the rasters share ground.
          transform: [(path === 'a.tif' ? 0 : 256) + x * 0.5, 0.5, 0, 4000000 - y * 0.5, 0, -0.5],
          crs: 'EPSG:32616',
        });
  const ds = namedDataset(metas);
  const px = spatialBlocks(ds, { blockSize: 512, units: 'pixels' });
  assert.equal(new Set(px.keys).size, 2 * 9, 'centres from 128 to 1024 px: blocks 0, 1 and 2 on each axis, per raster');
  assert.equal(px.keys[0], 'a.tif@0,0');
  const m = spatialBlocks(ds, { blockSize: 256, units: 'metres' });
  // a.tif's window at (512, 0) px and b.tif's at (0, 0) cover the same ground, so they share a block.
  const ia = metas.findIndex((x) => x.name === 'a.tif@512,0');
  const ib = metas.findIndex((x) => x.name === 'b.tif@0,0');
  assert.equal(m.keys[ia], m.keys[ib]);
  const split = randomSplit(ds, [0.5, 0.5], { seed: 3, groups: m });
  assertPartition(
    split,
    metas.map((x) => x.name),
  );
  assertGroupsKept(
    split,
    metas.map((x) => x.name),
    m.keys,
  );
  assertThrows(() => spatialBlocks(ds, { blockSize: 0 }), RangeError, /blockSize must be a positive number, got 0/);
  assertThrows(() => spatialBlocks(['x'], { blockSize: 10 }), TypeError, /blockSize needs meta.window on every sample/);
});

test('grouping by meta.group (region folders)', () => {
  const metas: SampleMeta[] = Array.from({ length: 30 }, (_, i) => ({
    name: `r${i % 5}/t${i}`,
    path: `r${i % 5}/t${i}.png`,
    group: `r${i % 5}`,
  }));
  const ds = namedDataset(metas);
  const split = randomSplit(ds, [0.6, 0.4], { seed: 9, groups: 'group' });
  assertGroupsKept(
    split,
    metas.map((m) => m.name),
    metas.map((m) => m.group!),
  );
  assert.deepEqual([split.sides.train.length, split.sides.val.length], [18, 12], 'three regions of six, then two');
  assertThrows(
    () => randomSplit(['a', 'b'], [0.5, 0.5], { groups: 'group' }),
    TypeError,
    /groups must be per-name keys or spatialBlocks\(names\)/,
  );
  const partial = namedDataset([{ name: 'a', path: 'a' }, metas[0]!]);
  assertThrows(
    () => randomSplit(partial, [0.5, 0.5], { groups: 'group' }),
    TypeError,
    /needs meta.group on every sample, sample 'a' has undefined/,
  );
});

tensorTest('saveSplit and loadSplit round trip; applySplit finds samples by name', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'segkit-split-'));
  try {
    const metas: SampleMeta[] = Array.from({ length: 12 }, (_, i) => ({ name: `tile${i}`, path: `tile${i}.png` }));
    const split = kFold(namedDataset(metas), 3, { seed: 4 })[1]!;
    const file = join(dir, 'split.json');
    await saveSplit(file, split);
    const json = JSON.parse(await readFile(file, 'utf8'));
    assert.deepEqual(Object.keys(json), ['version', 'method', 'seed', 'params', 'train', 'val']);
    assert.equal(json.version, 1);
    assert.deepEqual(await loadSplit(file), split);

    // The same names in another order: the subsets follow the names, not the indices.
    const reversed = namedDataset([...metas].reverse());
    const { train, val } = applySplit(reversed, split);
    assert.deepEqual(
      Array.from({ length: val.length }, (_, i) => val.metaAt!(i).name),
      split.sides.val,
    );
    assert.equal(train.length, 8);
    const s = await val.get(0);
    assert.equal(s.image.item(), 11 - Number(split.sides.val[0]!.slice(4)), 'index in the reversed dataset');
    torch.dispose(s);

    const fewer = namedDataset(metas.filter((m) => m.name !== split.sides.val[0] && m.name !== split.sides.train[2]));
    assertThrows(
      () => applySplit(fewer, split),
      RangeError,
      new RegExp(
        `applySplit: the dataset \\(10 samples\\) lacks 2 of the split's 12 names: \\['${split.sides.train[2]}', '${split.sides.val[0]}'\\]`,
      ),
    );

    const twice = namedDataset([...metas, metas[3]!]);
    assertThrows(
      () => applySplit(twice, split),
      TypeError,
      /applySplit: the dataset's sample names must be unique \(a split goes by name\), got \['tile3'\]/,
    );

    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ version: 2, method: 'x', seed: 0, train: [], val: [] }));
    await assert.rejects(loadSplit(bad), new RegExp(`loadSplit: ${bad} must be a split file of version 1, got version 2`));
    await writeFile(bad, JSON.stringify({ version: 1, method: 'x', seed: 0, train: ['a', 'b'], val: ['b'] }));
    await assert.rejects(loadSplit(bad), /loadSplit: .*bad.json: names must be on one side each, got \['b'\]/);
    await writeFile(bad, JSON.stringify({ version: 1, method: 'x', seed: 0, train: ['a'] }));
    await assert.rejects(loadSplit(bad), /bad.json must be a split with a 'val' side, got \['train'\]/);
    await writeFile(bad, '{"version": 1,');
    await assert.rejects(loadSplit(bad), /loadSplit: .*bad.json must be a JSON split file, got text that does not parse/);
    await assert.rejects(loadSplit(join(dir, 'none.json')), /ENOENT.*none.json/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
