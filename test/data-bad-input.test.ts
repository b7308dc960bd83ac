// Bad input at the dataset level: every bad file gets an error naming it and what was expected,
// `data check` lists them all in one pass, and nothing crashes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { checkDataset } from '../src/data/check.js';
import { crc32 } from '../src/data/image-header.js';
import { open } from '../src/data/open.js';
import { GeoTiffDataset } from '../src/data/sources/geotiff.js';
import { TilesDataset } from '../src/data/sources/tiles.js';
import { FIXTURES, tensorTest } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEMO = join(ROOT, 'data/demo/catanduanes');
const KAVRE = join(ROOT, 'test/data/oam-kavre');
const SPACENET = join(ROOT, 'test/data/spacenet4-atlanta');
const TILE = 'OAM-1546872-881008-21.png';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'segkit-bad-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A PNG whose IHDR (with a valid CRC) claims width x height, followed by no pixel data. */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const chunk = Buffer.concat([Buffer.from('IHDR'), ihdr]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(chunk) >>> 0, 0);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(13, 0);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), len, chunk, crc]);
}

const grey = (width: number, height: number, value: number) =>
  sharp(Buffer.alloc(width * height, value), { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();

tensorTest('data check lists every bad file of a folder set in one pass, each named with what was expected', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'images'));
  await mkdir(join(dir, 'masks'));
  const jpg = await readFile(join(DEMO, 'images', '1772464-966381-21.jpg'));
  const goodMask = await readFile(join(DEMO, 'masks', '1772464-966381-21.png'));
  const bad: Record<string, Buffer> = {
    truncated: jpg.subarray(0, Math.floor(jpg.length / 2)),
    empty: Buffer.alloc(0),
    text: Buffer.from('this is not an image\n'),
    garbage: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('garbage after the signature')]),
    bomb: pngClaiming(200000, 200000),
  };
  for (const [name, bytes] of Object.entries(bad)) {
    await writeFile(join(dir, 'images', `${name}.jpg`), bytes);
    await writeFile(join(dir, 'masks', `${name}.png`), goodMask);
  }
  await writeFile(join(dir, 'images', 'bomb.jpg'), bad.bomb!);
  for (const name of ['good1', 'good2', 'smallmask', 'badvalues']) await writeFile(join(dir, 'images', `${name}.jpg`), jpg);
  await writeFile(join(dir, 'masks', 'good1.png'), goodMask);
  await writeFile(join(dir, 'masks', 'good2.png'), goodMask);
  await writeFile(join(dir, 'masks', 'smallmask.png'), await grey(128, 128, 0));
  await writeFile(join(dir, 'masks', 'badvalues.png'), await grey(256, 256, 7));

  const started = Date.now();
  const report = await checkDataset(dir);
  assert.ok(Date.now() - started < 20000, 'the 200000x200000 header is refused without decoding');
  assert.equal(report.samples, 9);
  assert.equal(report.ok, 2);
  const byFile = new Map(report.problems.map((p) => [p.path.split('/').pop(), p.message]));
  assert.deepEqual([...byFile.keys()].sort(), [
    'badvalues.png',
    'bomb.jpg',
    'empty.jpg',
    'garbage.jpg',
    'smallmask.png',
    'text.jpg',
    'truncated.jpg',
  ]);
  assert.match(byFile.get('empty.jpg')!, /empty|0 bytes|zero/i);
  assert.match(byFile.get('text.jpg')!, /JPEG|PNG|image/);
  assert.match(byFile.get('bomb.jpg')!, /200000.*200000|pixel/i);
  assert.match(byFile.get('smallmask.png')!, /must be the size of its image .*\(256x256\), got 128x128/);
  assert.match(byFile.get('badvalues.png')!, /class indices 0\.\.1 or the ignore value 255, got 7 in 65536 pixel/);
  assert.match(byFile.get('truncated.jpg')!, /truncat|premature|corrupt|end/i);
});

test('an empty dataset is an error that says what was expected', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'images'));
  await mkdir(join(dir, 'masks'));
  await assert.rejects(open(dir), /no image\/mask pairs in .*found 0 image\(s\) and 0 mask\(s\)/);
  const report = await checkDataset(dir);
  assert.equal(report.samples, 0);
  assert.equal(report.problems.length, 1);
});

test('tiles: a label file that is not JSON is an error naming it', async (t) => {
  const dir = await tempDir(t);
  await copyFile(join(KAVRE, TILE), join(dir, TILE));
  await writeFile(join(dir, 'labels.geojson'), '{"type": "FeatureCollection", "features": [');
  await assert.rejects(TilesDataset.open(dir), (e: Error) => {
    assert.match(e.message, /labels\.geojson/);
    assert.match(e.message, /JSON/);
    return true;
  });
});

test('tiles: a null geometry is skipped with a warning, a bow-tie ring is repaired (warned), lon/lat out of range refused', async (t) => {
  const dir = await tempDir(t);
  await copyFile(join(KAVRE, TILE), join(dir, TILE));
  const labels = JSON.parse(await readFile(join(KAVRE, 'labels.geojson'), 'utf8'));
  const [x0, y0] = labels.features[0].geometry.coordinates[0][0];
  const d = 0.0001;
  labels.features.push({ type: 'Feature', properties: {}, geometry: null });
  labels.features.push({
    type: 'Feature',
    properties: {},
    geometry: {
      type: 'Polygon',
      coordinates: [
        [
          [x0, y0],
          [x0 + d, y0 + d],
          [x0 + d, y0],
          [x0, y0 + d],
          [x0, y0],
        ],
      ],
    },
  });
  await writeFile(join(dir, 'labels.geojson'), JSON.stringify(labels));
  const ds = await TilesDataset.open(dir);
  assert.equal(ds.length, 1);
  assert.ok(
    ds.warnings.some((w) => /null geometry/.test(w)),
    ds.warnings.join('\n'),
  );
  assert.ok(
    ds.warnings.some((w) => /self-intersect|repaired/i.test(w)),
    ds.warnings.join('\n'),
  );
  labels.features.push({
    type: 'Feature',
    properties: {},
    geometry: {
      type: 'Polygon',
      coordinates: [
        [
          [500000, 3700000],
          [500010, 3700000],
          [500010, 3700010],
          [500000, 3700000],
        ],
      ],
    },
  });
  await writeFile(join(dir, 'labels.geojson'), JSON.stringify(labels));
  await assert.rejects(TilesDataset.open(dir), /500000/);
});

tensorTest('geotiff: a raster without a CRS with labels in another CRS is refused, naming the file and the fix', async () => {
  await assert.rejects(
    GeoTiffDataset.open(join(FIXTURES, 'data', 'nocrs.tif'), { labels: join(SPACENET, 'geotiff_labels.geojson'), size: 64 }),
    (e: Error) => {
      assert.match(e.message, /nocrs\.tif has no CRS and the labels .*geotiff_labels\.geojson are in EPSG:32616: pass rasterCrs/);
      return true;
    },
  );
  const ds = await GeoTiffDataset.open(join(FIXTURES, 'data', 'nocrs.tif'), {
    labels: join(SPACENET, 'geotiff_labels.geojson'),
    size: 64,
    rasterCrs: 32616,
  });
  try {
    assert.equal(ds.length, 1);
    assert.equal(ds.metaAt(0).crs, 'EPSG:32616');
  } finally {
    await ds.close();
  }
});

test('segkit data check exits 1 on a bad set, 0 on a good one, and --json prints the report', async (t) => {
  const run = promisify(execFile);
  const cli = join(ROOT, 'src/cli/main.ts');
  const args = ['--import', 'tsx', cli, 'data', 'check'];
  const good = await run(process.execPath, [...args, DEMO, '--json'], { cwd: ROOT });
  const report = JSON.parse(good.stdout);
  assert.equal(report.samples, 24);
  assert.equal(report.ok, 24);
  assert.ok(report.foregroundFraction > 0.3 && report.foregroundFraction < 0.5);
  const dir = await tempDir(t);
  await mkdir(join(dir, 'images'));
  await mkdir(join(dir, 'masks'));
  await writeFile(join(dir, 'images', 'a.jpg'), 'not a jpeg');
  await writeFile(join(dir, 'masks', 'a.png'), await grey(8, 8, 0));
  await assert.rejects(run(process.execPath, [...args, dir], { cwd: ROOT }), (e: Error & { code?: number; stdout?: string }) => {
    assert.equal(e.code, 1);
    assert.match(e.stdout!, /1 bad/);
    assert.match(e.stdout!, /bad: .*a\.jpg/);
    return true;
  });
});

test('segkit data stats prints the SpaceNet raster statistics; preview writes a grid; convert writes the Tianchi layout', async (t) => {
  const run = promisify(execFile);
  const cli = join(ROOT, 'src/cli/main.ts');
  const stats = JSON.parse(
    (await run(process.execPath, ['--import', 'tsx', cli, 'data', 'stats', SPACENET, '--size', '300', '--json'], { cwd: ROOT })).stdout,
  );
  assert.equal(stats.samples, 9);
  assert.equal(stats.bands, 1);
  // Every valid pixel of the 900x900 raster counts once (nodata 0 left out); the 9 windows tile it exactly.
  const { openRaster } = await import('../src/geo/geotiff.js');
  const raster = await openRaster(join(SPACENET, 'sample_geotiff.tif'));
  const all = (await raster.readWindow({ x: 0, y: 0, width: 900, height: 900 })) as Uint16Array;
  await raster.close();
  const valid = all.filter((v) => v !== 0);
  assert.equal(stats.count, valid.length);
  const mean = valid.reduce((a, b) => a + b, 0) / valid.length;
  assert.ok(Math.abs(stats.mean[0] - mean) < 1e-6, `mean ${stats.mean[0]} vs ${mean}`);
  assert.equal(
    stats.min[0],
    valid.reduce((a, b) => Math.min(a, b)),
  );
  assert.equal(
    stats.max[0],
    valid.reduce((a, b) => Math.max(a, b)),
  );
  assert.deepEqual(stats.stretch, { kind: 'stretch', low: stats.p2, high: stats.p98 });

  const dir = await tempDir(t);
  const png = join(dir, 'grid.png');
  await run(process.execPath, ['--import', 'tsx', cli, 'data', 'preview', KAVRE, '--out', png, '--cell', '64'], { cwd: ROOT });
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  assert.deepEqual([meta.width, meta.height], [3 * 64 + 2 * 2, 2 * 64 + 2], '5 samples in a 3x2 grid of 64-px cells with 2-px gaps');

  const out = join(dir, 'tianchi');
  const converted = await run(process.execPath, ['--import', 'tsx', cli, 'data', 'convert', KAVRE, '--to', 'tianchi', '--out', out], {
    cwd: ROOT,
  });
  assert.match(converted.stdout, /5 sample\(s\) written/);
  assert.match(converted.stderr, /ignored \(no-data\) pixel\(s\) written as background/);
  const csv = (await readFile(join(out, 'train_mask.csv'), 'utf8')).trim().split('\n');
  assert.equal(csv.length, 5);
  for (const line of csv) assert.match(line, /^OAM-\d+-\d+-\d+\.jpg\t(\d+ \d+( \d+ \d+)*)?$/);
});
