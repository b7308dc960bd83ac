// The four sources on the real data in test/data and data/demo: shapes, dtypes, masks against
// gdal_rasterize's, nodata as ignore, georeference in meta, and layout recognition.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { torch } from '../src/index.js';
import { detectFormat, open } from '../src/data/open.js';
import { FolderDataset } from '../src/data/sources/folder.js';
import { GeoTiffDataset } from '../src/data/sources/geotiff.js';
import { TianchiDataset, parseMaskCsv } from '../src/data/sources/tianchi.js';
import { TilesDataset } from '../src/data/sources/tiles.js';
import { gridStarts } from '../src/data/sources/chips.js';
import { tensorTest } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEMO = join(ROOT, 'data/demo/catanduanes');
const CATANDUANES = join(ROOT, 'test/data/oam-catanduanes');
const KAVRE = join(ROOT, 'test/data/oam-kavre');
const SPACENET = join(ROOT, 'test/data/spacenet4-atlanta');

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'segkit-data-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function maskValues(mask: import('../src/index.js').Tensor): Int32Array {
  return torch.tidy(() => mask.int().toArray()) as Int32Array;
}

/** The demo's gdal_rasterize mask of a tile, 0/1. */
async function demoMask(name: string): Promise<Uint8Array> {
  const { data } = await sharp(join(DEMO, 'masks', `${name}.png`))
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Uint8Array.from(data, (v) => (v === 255 ? 1 : 0));
}

tensorTest(
  'folder: the demo set (JPG images, 0/255 PNG masks) reads as float32 [3,256,256] and int64 0/1 masks equal to the files',
  async () => {
    const ds = await FolderDataset.open(DEMO);
    assert.equal(ds.length, 24);
    const s = await ds.get(0);
    try {
      assert.deepEqual(s.image.shape, [3, 256, 256]);
      assert.equal(s.image.dtype, 'float32');
      assert.deepEqual(s.mask.shape, [256, 256]);
      assert.equal(s.mask.dtype, 'int64');
      const expected = await demoMask(s.meta.name);
      assert.deepEqual(Array.from(maskValues(s.mask)), Array.from(expected));
      const [lo, hi] = torch.tidy(() => [s.image.min().item(), s.image.max().item()]);
      assert.ok(lo >= 0 && hi <= 1 && hi > 0.5, `image in [0, 1]: ${lo}..${hi}`);
      assert.equal(s.meta.path, join(DEMO, 'images', `${s.meta.name}.jpg`));
    } finally {
      s.image.dispose();
      s.mask.dispose();
    }
  },
);

tensorTest('tiles: masks rasterised from labels.geojson equal gdal_rasterize on the 24 demo tiles (IoU >= 0.999)', async () => {
  const ds = await TilesDataset.open(CATANDUANES, { zooms: [21] });
  assert.equal(ds.length, 64);
  const names = (await readFile(join(DEMO, 'split.json'), 'utf8')).match(/\d+-\d+-21/g)!;
  let inter = 0;
  let union = 0;
  let differ = 0;
  for (const name of names) {
    const index = Array.from({ length: ds.length }, (_, i) => i).find((i) => ds.metaAt(i).name === `OAM-${name}`)!;
    assert.ok(index !== undefined, `tile ${name} found`);
    const ours = ds.rasterizeTile(index, 256);
    const gdal = await demoMask(name);
    for (let p = 0; p < ours.length; p++) {
      if (ours[p] && gdal[p]) inter++;
      if (ours[p] || gdal[p]) union++;
      if (ours[p] !== gdal[p]) differ++;
    }
  }
  assert.ok(inter / union >= 0.999, `IoU ${inter / union} (${differ} pixels differ)`);
});

tensorTest('tiles: JPEG bytes named .png decode, meta carries the tile, its EPSG:3857 transform and the region', async () => {
  const ds = await TilesDataset.open(CATANDUANES);
  assert.equal(ds.length, 84);
  const i = Array.from({ length: ds.length }, (_, k) => k).find((k) => ds.metaAt(k).name === 'OAM-1772464-966380-21')!;
  const s = await ds.get(i);
  try {
    assert.deepEqual(s.image.shape, [3, 256, 256]);
    assert.deepEqual(s.meta.tile, { x: 1772464, y: 966380, z: 21 });
    assert.equal(s.meta.crs, 'EPSG:3857');
    const o = Math.PI * 6378137;
    const step = (2 * o) / 2 ** 21;
    const t = s.meta.transform!;
    assert.ok(Math.abs(t[0] - (-o + 1772464 * step)) < 1e-6 && Math.abs(t[3] - (o - 966380 * step)) < 1e-6);
    assert.ok(Math.abs(t[1] - step / 256) < 1e-9 && Math.abs(t[5] + step / 256) < 1e-9);
    assert.equal(s.meta.group, 'oam-catanduanes');
  } finally {
    s.image.dispose();
    s.mask.dispose();
  }
});

tensorTest('tiles: RGBA PNG pixels with alpha 0 become ignore (255) in the mask and 0 in the image', async () => {
  const ds = await TilesDataset.open(KAVRE);
  const i = Array.from({ length: ds.length }, (_, k) => k).find((k) => ds.metaAt(k).name === 'OAM-1546876-881009-21')!;
  const { data, info } = await sharp(join(KAVRE, 'OAM-1546876-881009-21.png')).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 4);
  const alphaZero: number[] = [];
  for (let p = 0; p < info.width * info.height; p++) if (data[p * 4 + 3] === 0) alphaZero.push(p);
  assert.ok(alphaZero.length > 0);
  const s = await ds.get(i);
  try {
    const m = maskValues(s.mask);
    const ignored = [];
    for (let p = 0; p < m.length; p++) if (m[p] === 255) ignored.push(p);
    assert.deepEqual(ignored, alphaZero);
    const img = s.image.toArray() as Float32Array;
    for (const p of alphaZero) assert.equal(img[p], 0);
  } finally {
    s.image.dispose();
    s.mask.dispose();
  }
});

test('grid windows cover the raster, the last one flush with the edge', () => {
  assert.deepEqual(gridStarts(900, 256, 256), [0, 256, 512, 644]);
  assert.deepEqual(gridStarts(900, 512, 256), [0, 256, 388]);
  assert.deepEqual(gridStarts(200, 256, 256), [0]);
  assert.deepEqual(gridStarts(512, 256, 256), [0, 256]);
});

tensorTest(
  'geotiff: the SpaceNet raster in 256-px windows: 16 chips, 16-bit stretched to [0, 1], nodata ignored, windows georeferenced',
  async () => {
    const ds = await GeoTiffDataset.open(join(SPACENET, 'sample_geotiff.tif'), { size: 256 });
    try {
      assert.equal(ds.length, 16);
      assert.equal(ds.channels, 1);
      assert.equal(ds.scaling.kind, 'stretch');
      const meta = ds.metaAt(5);
      assert.deepEqual(meta.window, { x: 256, y: 256, width: 256, height: 256 });
      assert.equal(meta.crs, 'EPSG:32616');
      const full = ds.infos[0]!.transform!;
      assert.ok(Math.abs(meta.transform![0] - (full[0] + 256 * full[1])) < 1e-6);
      assert.ok(Math.abs(meta.transform![3] - (full[3] + 256 * full[5])) < 1e-6);
      let buildings = 0;
      for (let i = 0; i < ds.length; i++) {
        const raw = await ds.readImage(i);
        const s = await ds.get(i);
        try {
          const m = maskValues(s.mask);
          for (let p = 0; p < m.length; p++) {
            assert.equal(m[p] === 255, raw.data[p] === 0, `window ${i} pixel ${p}: ignore exactly where the raster holds nodata 0`);
            if (m[p] === 1) buildings++;
          }
          const [lo, hi] = torch.tidy(() => [s.image.min().item(), s.image.max().item()]);
          assert.ok(lo >= 0 && hi <= 1);
        } finally {
          s.image.dispose();
          s.mask.dispose();
        }
      }
      assert.ok(buildings > 1000, `building pixels ${buildings}`);
    } finally {
      await ds.close();
    }
  },
);

tensorTest('geotiff: labels given in lon/lat are reprojected to the raster CRS (UTM 16N) and burn the same pixels', async (t) => {
  const dir = await tempDir(t);
  const { reprojector } = await import('../src/geo/crs.js');
  const toLonLat = reprojector('EPSG:32616', 'EPSG:4326');
  const src = JSON.parse(await readFile(join(SPACENET, 'geotiff_labels.geojson'), 'utf8'));
  const reproject = (c: unknown): unknown =>
    typeof (c as number[])[0] === 'number' ? toLonLat((c as number[])[0]!, (c as number[])[1]!) : (c as unknown[]).map(reproject);
  for (const f of src.features) if (f.geometry) f.geometry.coordinates = reproject(f.geometry.coordinates);
  delete src.crs;
  await writeFile(join(dir, 'lonlat.geojson'), JSON.stringify(src));
  const a = await GeoTiffDataset.open(join(SPACENET, 'sample_geotiff.tif'), { size: 512, stride: 388 });
  const b = await GeoTiffDataset.open(join(SPACENET, 'sample_geotiff.tif'), {
    size: 512,
    stride: 388,
    labels: join(dir, 'lonlat.geojson'),
  });
  try {
    let inter = 0;
    let union = 0;
    for (let i = 0; i < a.length; i++) {
      const ma = a.rasterizeWindow(i, null);
      const mb = b.rasterizeWindow(i, null);
      for (let p = 0; p < ma.length; p++) {
        if (ma[p] && mb[p]) inter++;
        if (ma[p] || mb[p]) union++;
      }
    }
    assert.ok(union > 0 && inter / union > 0.999, `IoU ${inter / union}`);
  } finally {
    await a.close();
    await b.close();
  }
});

tensorTest('geotiff: a band count the model does not take is refused at open, naming the file and both counts', async () => {
  await assert.rejects(GeoTiffDataset.open(join(SPACENET, 'sample_geotiff.tif'), { channels: 3 }), (e: Error) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /sample_geotiff\.tif gives 1 band\(s\).*takes 3 \(channels\)/);
    return true;
  });
});

tensorTest('geotiff: random windows are seeded, inside the raster, and weighting towards buildings raises the building share', async () => {
  const path = join(SPACENET, 'sample_geotiff.tif');
  const open1 = (seed: number, buildingWeight: number) =>
    GeoTiffDataset.open(path, { size: 128, sampling: 'random', samples: 40, seed, buildingWeight });
  const [a, b, c, w] = await Promise.all([open1(1, 0), open1(1, 0), open1(2, 0), open1(1, 1)]);
  try {
    const windows = (d: GeoTiffDataset) => Array.from({ length: d.length }, (_, i) => d.metaAt(i).window!);
    assert.deepEqual(windows(a), windows(b));
    assert.notDeepEqual(windows(a), windows(c));
    for (const win of windows(a)) assert.ok(win.x >= 0 && win.y >= 0 && win.x + 128 <= 900 && win.y + 128 <= 900);
    const share = (d: GeoTiffDataset) => {
      let n = 0;
      for (let i = 0; i < d.length; i++) n += d.rasterizeWindow(i, null).reduce((s, v) => s + v, 0);
      return n / (d.length * 128 * 128);
    };
    assert.ok(share(w) > share(a), `weighted ${share(w)} vs uniform ${share(a)}`);
  } finally {
    await Promise.all([a, b, c, w].map((d) => d.close()));
  }
});

test('tianchi CSV: tab-separated name and RLE, an empty field is an empty mask, bad lines name the line', () => {
  const rows = parseMaskCsv('a.jpg\t1 2 10 3\nb.jpg\t\nc.jpg\n', 'train_mask.csv');
  assert.deepEqual(rows, [
    { name: 'a.jpg', rle: '1 2 10 3', line: 1 },
    { name: 'b.jpg', rle: '', line: 2 },
    { name: 'c.jpg', rle: '', line: 3 },
  ]);
  assert.throws(
    () => parseMaskCsv('a.jpg\t1 2\nname,mask\n', 'm.csv'),
    /m\.csv: line 2: expected "<image name>\.jpg<TAB><run-length encoding>"/,
  );
  assert.throws(() => parseMaskCsv('a.jpg\t1 2\na.jpg\t3 4\n', 'm.csv'), /line 2: a\.jpg already has a mask on line 1/);
});

tensorTest(
  'tianchi: the demo tiles converted to the Tianchi layout read back with the same masks (RLE round trip through files)',
  async (t) => {
    const dir = await tempDir(t);
    const { convertDataset } = await import('../src/data/convert.js');
    const r = await convertDataset(DEMO, { to: 'tianchi', out: dir });
    assert.equal(r.samples, 24);
    assert.equal(await detectFormat(dir), 'tianchi');
    const folder = await FolderDataset.open(DEMO);
    const tianchi = await TianchiDataset.open(dir);
    assert.equal(tianchi.length, 24);
    for (let i = 0; i < folder.length; i += 5) {
      const name = folder.metaAt(i).name;
      const j = Array.from({ length: tianchi.length }, (_, k) => k).find((k) => tianchi.metaAt(k).name === name)!;
      const a = await folder.get(i);
      const b = await tianchi.get(j);
      try {
        assert.deepEqual(Array.from(maskValues(b.mask)), Array.from(maskValues(a.mask)), name);
        assert.equal(
          torch.tidy(() => a.image.sub(b.image).abs().max().item()),
          0,
          'JPEG bytes copied, not recompressed',
        );
      } finally {
        for (const s of [a, b]) {
          s.image.dispose();
          s.mask.dispose();
        }
      }
    }
  },
);

tensorTest(
  'convert: tiles to the folder layout keeps ignore pixels (maskValues: indices in segkit.json) and reads back equal',
  async (t) => {
    const dir = await tempDir(t);
    const { convertDataset } = await import('../src/data/convert.js');
    await convertDataset(KAVRE, { to: 'folder', out: dir });
    assert.equal(await detectFormat(dir), 'folder');
    const a = await TilesDataset.open(KAVRE);
    const b = await FolderDataset.open(dir);
    assert.equal(b.length, a.length);
    for (let i = 0; i < a.length; i++) {
      const sa = await a.get(i);
      const sb = await b.get(i);
      try {
        assert.equal(sb.meta.name, sa.meta.name);
        assert.deepEqual(Array.from(maskValues(sb.mask)), Array.from(maskValues(sa.mask)));
      } finally {
        for (const s of [sa, sb]) {
          s.image.dispose();
          s.mask.dispose();
        }
      }
    }
    await assert.rejects(convertDataset(KAVRE, { to: 'folder', out: dir }), /already holds .* pick an empty folder or pass overwrite/);
  },
);

test('data.open recognises every layout and says what it looked for when it cannot', async (t) => {
  assert.equal(await detectFormat(DEMO), 'folder');
  assert.equal(await detectFormat(CATANDUANES), 'tiles');
  assert.equal(await detectFormat(join(ROOT, 'test/data')), 'tiles');
  assert.equal(await detectFormat(join(SPACENET, 'sample_geotiff.tif')), 'geotiff');
  assert.equal(await detectFormat(SPACENET), 'geotiff');
  const dir = await tempDir(t);
  await mkdir(join(dir, 'stuff'));
  await writeFile(join(dir, 'notes.txt'), 'hello');
  await assert.rejects(open(dir), /cannot tell the layout of .*expected images\/ and masks\/ .*Pass format to choose/);
  await assert.rejects(
    open(dir, { format: 'fodler' as 'folder' }),
    (e: Error) => e instanceof TypeError && /format must be one of/.test(e.message),
  );
});

test('tiles: region folders open together, each tile grouped by its region', async (t) => {
  const dir = await tempDir(t);
  for (const region of ['a', 'b']) {
    await mkdir(join(dir, region));
    await copyFile(join(KAVRE, 'labels.geojson'), join(dir, region, 'labels.geojson'));
    await copyFile(join(KAVRE, 'OAM-1546872-881008-21.png'), join(dir, region, 'OAM-1546872-881008-21.png'));
  }
  const ds = await open(dir);
  assert.equal(ds.format, 'tiles');
  assert.deepEqual(
    Array.from({ length: ds.length }, (_, i) => [ds.metaAt(i).name, ds.metaAt(i).group]),
    [
      ['a/OAM-1546872-881008-21', 'a'],
      ['b/OAM-1546872-881008-21', 'b'],
    ],
  );
});

tensorTest('8-bit images scale in libtorch to the values scaleToFloat computes, stretch and no-data included', async () => {
  const { imageTensor } = await import('../src/data/sources/common.js');
  const { decodeImage } = await import('../src/data/decode.js');
  const { scaleToFloat } = await import('../src/data/normalize.js');
  const image = await decodeImage(join(KAVRE, 'OAM-1546876-881009-21.png'));
  assert.ok(image.valid !== null);
  const scalings: import('../src/data/normalize.js').Scaling[] = [
    { kind: 'divide', by: 255 },
    { kind: 'stretch', low: [10, 20, 30], high: [200, 210, 250] },
  ];
  for (const scaling of scalings) {
    const expected = scaleToFloat(image, scaling);
    const t = imageTensor(image, scaling);
    try {
      const got = t.toArray() as Float32Array;
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
      assert.ok(worst <= 1e-7, `${scaling.kind}: max |diff| ${worst}`);
    } finally {
      t.dispose();
    }
  }
});

tensorTest('folder multilabel: one mask band per class reads as float32 [K, H, W], and batches flip image and mask together', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'images'));
  await mkdir(join(dir, 'masks'));
  const names = ['1772464-966381-21', '1772465-966380-21'];
  const size = 256;
  for (const [k, name] of names.entries()) {
    await copyFile(join(DEMO, 'images', `${name}.jpg`), join(dir, 'images', `${name}.jpg`));
    // Band 0: the building mask; band 1: its complement; band 2: the left half of the tile (k = 0) or nothing.
    const building = await demoMask(name);
    const rgb = Buffer.alloc(size * size * 3);
    for (let p = 0; p < size * size; p++) {
      rgb[p * 3] = building[p]! * 255;
      rgb[p * 3 + 1] = (1 - building[p]!) * 255;
      rgb[p * 3 + 2] = k === 0 && p % size < size / 2 ? 255 : 0;
    }
    await sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
      .png()
      .toFile(join(dir, 'masks', `${name}.png`));
  }
  await assert.rejects(
    async () => (await FolderDataset.open(dir, { maskValues: 'multilabel', classes: 2 })).get(0),
    /a multilabel mask holds one band per class \(classes: 2\), got 3 band\(s\)/,
  );
  const ds = await FolderDataset.open(dir, { maskValues: 'multilabel', classes: 3 });
  const s = await ds.get(0);
  try {
    assert.deepEqual(s.mask.shape, [3, 256, 256]);
    assert.equal(s.mask.dtype, 'float32');
    const m = s.mask.toArray() as Float32Array;
    const building = await demoMask(names[0]!);
    for (let p = 0; p < size * size; p++) {
      assert.equal(m[p], building[p]);
      assert.equal(m[size * size + p], 1 - building[p]!);
      assert.equal(m[2 * size * size + p], p % size < size / 2 ? 1 : 0);
    }
  } finally {
    s.image.dispose();
    s.mask.dispose();
  }
  const { DataLoader } = await import('../src/data/loader.js');
  const { HorizontalFlip } = await import('../src/data/augment/index.js');
  const loader = new DataLoader(ds, { batchSize: 2, transform: new HorizontalFlip({ p: 1 }) });
  for await (const batch of loader) {
    try {
      assert.deepEqual(batch.mask.shape, [2, 3, 256, 256]);
      const third = torch.tidy(() => batch.mask.select(0, 0).select(0, 2).sum({ dim: 0 }).toArray()) as Float32Array;
      assert.equal(third[0], 0, 'the left half moved to the right');
      assert.equal(third[255], 256);
    } finally {
      batch.image.dispose();
      batch.mask.dispose();
    }
  }
});
