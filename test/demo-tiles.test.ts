import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { defaultDemoDir, loadDemoTiles, type DemoSplit } from '../src/data/demo-tiles.js';

const DIR = defaultDemoDir();
const HW = 256 * 256;

async function readSplitJson(): Promise<{ train: string[]; val: string[] }> {
  return JSON.parse(await readFile(join(DIR, 'split.json'), 'utf8'));
}

// Counted straight from the PNG, independent of the loader's decoding path.
async function pngBuildingPixels(name: string): Promise<number> {
  const { data } = await sharp(join(DIR, 'masks', `${name}.png`))
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  let count = 0;
  for (const v of data) if (v > 127) count++;
  return count;
}

function sum(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}

test('defaultDemoDir points at the bundled folder, from src/ and from dist/', async () => {
  assert.ok(existsSync(join(DIR, 'split.json')), `${DIR}/split.json should exist`);
  assert.match(DIR, /data[\\/]demo[\\/]catanduanes$/);
  // The compiled module lives at the same depth, so the same relative URL must land in
  // the same place; checked against the real build when there is one.
  const dist = new URL('../dist/data/demo-tiles.js', import.meta.url);
  if (existsSync(dist)) {
    const mod = (await import(dist.href)) as typeof import('../src/data/demo-tiles.js');
    assert.equal(mod.defaultDemoDir(), DIR);
  }
});

for (const split of ['train', 'val'] as DemoSplit[]) {
  test(`loads the ${split} split with the documented shapes and ranges`, async () => {
    const expected = (await readSplitJson())[split];
    const t = await loadDemoTiles(DIR, split);
    assert.deepEqual(t.names, expected);
    assert.deepEqual(t.shape, { n: expected.length, height: 256, width: 256 });
    assert.equal(t.images.length, expected.length * 3 * HW);
    assert.equal(t.masks.length, expected.length * HW);

    let min = Infinity;
    let max = -Infinity;
    for (const v of t.images) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    assert.ok(min >= 0 && max <= 1, `image values in [0,1], got [${min}, ${max}]`);
    // Real photos use most of the range; all-zero or all-one would mean a decoding bug.
    assert.ok(max - min > 0.5, `image value spread ${min}..${max}`);
    const mean = sum(t.images) / t.images.length;
    assert.ok(mean > 0.15 && mean < 0.85, `image mean ${mean}`);
    for (const v of t.masks) assert.ok(v === 0 || v === 1, `mask value ${v}`);

    // Mask fraction must agree exactly with a direct count from the PNGs.
    let direct = 0;
    for (const name of t.names) direct += await pngBuildingPixels(name);
    const loaded = sum(t.masks);
    assert.equal(loaded, direct);
    // A village at 7.5 cm/px: roofs fill a good share of the chosen tiles, but not all.
    const fraction = loaded / t.masks.length;
    assert.ok(fraction > 0.15 && fraction < 0.7, `${split} building fraction ${fraction}`);
  });
}

test('train and val are disjoint and together cover every bundled tile', async () => {
  const split = await readSplitJson();
  const train = await loadDemoTiles(DIR, 'train');
  const val = await loadDemoTiles(DIR, 'val');
  const t = new Set(train.names);
  assert.equal(t.size, train.names.length, 'no duplicates in train');
  assert.equal(new Set(val.names).size, val.names.length, 'no duplicates in val');
  for (const name of val.names) assert.ok(!t.has(name), `${name} is in both splits`);
  assert.deepEqual([...train.names, ...val.names].sort(), [...split.train, ...split.val].sort());
  const files = (await readdir(join(DIR, 'images'))).map((f) => f.replace(/\.[^.]+$/, ''));
  assert.deepEqual(files.sort(), [...split.train, ...split.val].sort());
  // The split is spatial (by tile column): every val column lies east of every train one.
  const col = (n: string) => Number(n.split('-')[0]);
  assert.ok(Math.max(...train.names.map(col)) < Math.min(...val.names.map(col)));
});

test('the first image matches a direct sharp decode, channel-planar', async () => {
  const t = await loadDemoTiles(DIR, 'train');
  const name = t.names[0];
  const files = await readdir(join(DIR, 'images'));
  const file = files.find((f) => f.startsWith(`${name}.`));
  assert.ok(file);
  const { data } = await sharp(join(DIR, 'images', file))
    .raw()
    .toBuffer({ resolveWithObject: true });
  for (const i of [0, 1, 257, 32768, HW - 1]) {
    for (let c = 0; c < 3; c++) assert.equal(t.images[c * HW + i], Math.fround(data[i * 3 + c] / 255));
  }
});

test('a bad directory gives an error naming split.json and the folder', async () => {
  const bad = join(tmpdir(), 'segkit-no-such-demo-dir');
  await assert.rejects(loadDemoTiles(bad, 'train'), (err: Error) => {
    assert.match(err.message, /split\.json/);
    assert.ok(err.message.includes(bad), err.message);
    return true;
  });
});

test('missing, mis-sized and mis-named files give clear errors', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'segkit-demo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'images'));
  await mkdir(join(dir, 'masks'));
  const split = await readSplitJson();
  const [a, b] = split.train;
  await writeFile(join(dir, 'split.json'), JSON.stringify({ train: [a], val: [b] }));

  // Missing image: the message names the expected files.
  await copyFile(join(DIR, 'masks', `${a}.png`), join(dir, 'masks', `${a}.png`));
  await assert.rejects(loadDemoTiles(dir, 'train'), (err: Error) => {
    assert.ok(err.message.includes(join(dir, 'images', `${a}.jpg`)), err.message);
    assert.match(err.message, /not found/);
    return true;
  });

  // JPEG bytes behind a .png name (as in the source data) still load: content decides.
  await copyFile(join(DIR, 'images', `${a}.jpg`), join(dir, 'images', `${a}.png`));
  const ok = await loadDemoTiles(dir, 'train');
  const ref = await loadDemoTiles(DIR, 'train');
  const i = ref.names.indexOf(a);
  assert.deepEqual(ok.images, ref.images.subarray(i * 3 * HW, (i + 1) * 3 * HW));

  // Wrong size: expected and received both appear.
  const small = await sharp({
    create: { width: 128, height: 96, channels: 3, background: { r: 9, g: 9, b: 9 } },
  })
    .jpeg()
    .toBuffer();
  await writeFile(join(dir, 'images', `${b}.jpg`), small);
  await copyFile(join(DIR, 'masks', `${b}.png`), join(dir, 'masks', `${b}.png`));
  await assert.rejects(loadDemoTiles(dir, 'val'), (err: Error) => {
    assert.ok(err.message.includes(`${b}.jpg`), err.message);
    assert.match(err.message, /expected 256x256, received 128x96/);
    return true;
  });

  // Missing mask.
  await rm(join(dir, 'masks', `${a}.png`));
  await assert.rejects(loadDemoTiles(dir, 'train'), (err: Error) => {
    assert.ok(err.message.includes(join(dir, 'masks', `${a}.png`)), err.message);
    return true;
  });

  // Not an image at all.
  await writeFile(join(dir, 'images', `${b}.jpg`), 'hello');
  await assert.rejects(loadDemoTiles(dir, 'val'), /not an image: expected JPEG .* received 5 bytes/);
});

test('RGBA PNG tiles: alpha 0 (no data) reads as 0', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'segkit-demo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'images'));
  await mkdir(join(dir, 'masks'));
  const rgba = Buffer.alloc(HW * 4);
  for (let i = 0; i < HW; i++) {
    rgba.set([200, 100, 50, i < 256 ? 0 : 255], i * 4);
  }
  const raw = { width: 256, height: 256, channels: 4 as const };
  await sharp(rgba, { raw })
    .png()
    .toFile(join(dir, 'images', 'x.png'));
  const mask = Buffer.alloc(HW, 0);
  mask[300] = 255;
  await sharp(mask, { raw: { width: 256, height: 256, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(join(dir, 'masks', 'x.png'));
  await writeFile(join(dir, 'split.json'), JSON.stringify({ train: ['x'], val: [] }));
  const out = await loadDemoTiles(dir, 'train');
  assert.equal(out.images[0], 0, 'no-data pixel in the top row');
  assert.equal(out.images[256], Math.fround(200 / 255));
  assert.equal(out.images[HW + 256], Math.fround(100 / 255));
  assert.equal(out.images[2 * HW + 256], Math.fround(50 / 255));
  assert.equal(sum(out.masks), 1);
  assert.equal(out.masks[300], 1);
  // An empty split is a mistake worth reporting, not an empty batch.
  await assert.rejects(loadDemoTiles(dir, 'val'), /"val" is empty/);
});
