// `segkit predict` on tiles: mask and probability PNGs, nothing overwritten unless asked, no
// half-written file, the shipped model by default.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createPredictor } from '../src/infer/predictor.js';
import { predictFiles } from '../src/infer/predict-files.js';
import { writeSubmission } from '../src/infer/submit.js';
import { data, geo, metrics, rle, torch } from '../src/index.js';
import { tensorTest } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const KAVRE = join(ROOT, 'data', 'demo', 'regions', 'kavre');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const TILES = ['OAM-1546788-881052-21.png', 'OAM-1546789-881052-21.png'];

function inputs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'segkit-predict-'));
  mkdirSync(join(dir, 'in'));
  for (const t of TILES) copyFileSync(join(KAVRE, t), join(dir, 'in', t));
  writeFileSync(join(dir, 'in', 'notes.txt'), 'not an image');
  return dir;
}

async function grey(path: string): Promise<{ data: Buffer; channels: number }> {
  const { channels } = await sharp(path).metadata();
  const data = await sharp(path).extractChannel(0).raw().toBuffer();
  return { data, channels: channels! };
}

tensorTest('predictFiles writes a 0/255 mask and the probabilities of each tile; existing outputs are refused', async () => {
  const dir = inputs();
  const out = join(dir, 'out');
  const predictor = createPredictor(join(ROOT, 'models', 'buildings', 'model.safetensors'), { window: 256, device: 'cpu' });
  try {
    const written = await predictFiles(predictor, join(dir, 'in'), { out, formats: ['png', 'probabilities'] });
    assert.deepEqual(
      written.map((p) => p.slice(out.length + 1)),
      TILES.flatMap((t) => [t, t.replace('.png', '.prob.png')]),
    );
    for (const t of TILES) {
      const mask = await grey(join(out, t));
      const prob = await grey(join(out, t.replace('.png', '.prob.png')));
      assert.equal(mask.channels, 1);
      assert.equal(mask.data.length, 256 * 256);
      assert.ok(mask.data.every((v) => v === 0 || v === 255));
      // The mask is the probability at the checkpoint's threshold (0.5); rounding to 8 bits can flip a pixel exactly at it.
      let differ = 0;
      for (let i = 0; i < mask.data.length; i++) if (mask.data[i]! > 0 !== prob.data[i]! >= 128) differ++;
      assert.ok(differ <= 5, `${differ} pixels differ`);
    }
    await assert.rejects(
      predictFiles(predictor, join(dir, 'in'), { out }),
      /predictFiles: 2 output\(s\) exist already .*pass overwrite \(--overwrite\)/,
    );
    assert.equal((await predictFiles(predictor, join(dir, 'in'), { out, overwrite: true })).length, 2);
    assert.deepEqual(
      readdirSync(out).filter((f) => f.includes('.tmp-')),
      [],
    );
    await assert.rejects(
      predictFiles(predictor, join(dir, 'in'), { out, formats: ['tiff' as never] }),
      /predictFiles: formats must be a non-empty array of 'png', 'probabilities'/,
    );
    await assert.rejects(predictFiles(predictor, join(dir, 'nope'), { out }), /predictFiles: cannot read .*nope/);
  } finally {
    predictor.dispose();
  }
});

tensorTest('segkit predict without --model uses the shipped building model; a GeoTIFF comes out georeferenced', async () => {
  const dir = inputs();
  const r = spawnSync(
    process.execPath,
    [CLI, 'predict', join(dir, 'in', TILES[0]!), '--out', join(dir, 'o'), '--window', '256', '--device', 'cpu', '--json'],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines[0], { type: 'image', index: 0, count: 1, outputs: [join(dir, 'o', TILES[0]!)] });
  assert.equal(lines[1].type, 'end');
  assert.ok(existsSync(join(dir, 'o', TILES[0]!)));
  const bad = spawnSync(process.execPath, [CLI, 'predict', join(dir, 'in'), '--out', join(dir, 'o2'), '--format', 'png,tiff'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--format: expected a comma-separated list of png, probabilities, geojson, got "tiff"/);
  // A GeoTIFF input: predicted strip by strip into GeoTIFFs with its CRS and transform.
  const tile = await data.open(KAVRE).then((ds) => ds.get(0));
  const rgb = torch.tidy(() => tile.image.mul(255).round().to({ dtype: 'uint8' }).contiguous().toArray() as Uint8Array);
  torch.dispose([tile.image, tile.mask]);
  const transform: [number, number, number, number, number, number] = [9462000, 0.075, 0, -3106000, 0, -0.075];
  await geo.writeGeoTiff(join(dir, 'scene.tif'), rgb, { width: 256, height: 256, bands: 3, dtype: 'uint8', crs: 'EPSG:3857', transform });
  const r2 = spawnSync(
    process.execPath,
    [
      CLI,
      'predict',
      join(dir, 'scene.tif'),
      '--out',
      join(dir, 'g'),
      '--format',
      'geotiff,probabilities',
      '--window',
      '256',
      '--device',
      'cpu',
      '--quiet',
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r2.status, 0, r2.stderr);
  for (const f of ['scene.mask.tif', 'scene.prob.tif']) {
    const r = await geo.openRaster(join(dir, 'g', f));
    assert.deepEqual([r.info.width, r.info.height, r.info.crs, r.info.transform], [256, 256, 'EPSG:3857', transform]);
    await r.close();
  }
});

tensorTest('a submission lists the sample names in order with the RLE of each predicted mask', async () => {
  const dir = inputs();
  const sample = join(dir, 'sample.csv');
  // The sample's order, not the folder's; its mask column is empty.
  writeFileSync(sample, `${TILES[1]}\t\n${TILES[0]}\t\n`);
  const predictor = createPredictor(join(ROOT, 'models', 'buildings', 'model.safetensors'), { window: 256, device: 'cpu' });
  try {
    const out = join(dir, 'submission.csv');
    assert.equal(await writeSubmission(predictor, { images: join(dir, 'in'), sample, out }), 2);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split('\t')[0]),
      [TILES[1], TILES[0]],
    );
    for (const line of lines) {
      const [name, runs] = line.split('\t') as [string, string];
      const { predicted, width, height } = await maskOf(predictor, join(dir, 'in', name));
      assert.deepEqual(
        rle.decode(runs, [height, width]),
        Uint8Array.from(predicted, (v) => (v ? 1 : 0)),
      );
    }
    await assert.rejects(
      writeSubmission(predictor, { images: join(dir, 'in'), sample, out }),
      /writeSubmission: .*submission\.csv exists; pass overwrite/,
    );
    writeFileSync(sample, `${TILES[0]}\t\nmissing.jpg\t\n`);
    await assert.rejects(
      writeSubmission(predictor, { images: join(dir, 'in'), sample, out, overwrite: true }),
      /writeSubmission: 1 image\(s\) of the sample are not in .* \(missing\.jpg\)/,
    );
  } finally {
    predictor.dispose();
  }
  // The RLE the file holds round-trips on the edge cases a submission meets.
  const [h, w] = [512, 512];
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(h * w)],
    ['full', new Uint8Array(h * w).fill(1)],
    ['one pixel', Object.assign(new Uint8Array(h * w), { 1234: 1 })],
    ['first pixel', Object.assign(new Uint8Array(h * w), { 0: 1 })],
    ['last pixel', Object.assign(new Uint8Array(h * w), { [h * w - 1]: 1 })],
  ];
  for (const [name, m] of cases) assert.deepEqual(rle.decode(rle.encode(m, [h, w]), [h, w]), m, name);
  assert.equal(rle.encode(cases[0]![1], [h, w]), '', 'no building: an empty field');
  assert.equal(rle.encode(cases[1]![1], [h, w]), `1 ${h * w}`);
});

async function maskOf(
  predictor: ReturnType<typeof createPredictor>,
  path: string,
): Promise<{ predicted: Uint8Array; width: number; height: number }> {
  const { data: pixels, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const planar = new Float32Array(3 * info.width * info.height);
  for (let i = 0; i < info.width * info.height; i++)
    for (let c = 0; c < 3; c++) planar[c * info.width * info.height + i] = pixels[i * 3 + c]! / 255;
  const image = torch.tensor(planar, { shape: [3, info.height, info.width] });
  try {
    const predicted = torch.tidy(() => predictor.mask(image).contiguous().toArray() as Uint8Array);
    return { predicted, width: info.width, height: info.height };
  } finally {
    image.dispose();
  }
}

tensorTest('geojson: the buildings of a tile in lon/lat inside the tile; --crf refines before thresholding', async () => {
  const dir = inputs();
  const out = join(dir, 'poly');
  const predictor = createPredictor(join(ROOT, 'models', 'buildings', 'model.safetensors'), { window: 256, device: 'cpu' });
  try {
    await predictFiles(predictor, join(dir, 'in', TILES[0]!), { out, formats: ['png', 'geojson'], polygons: { simplify: 0, minArea: 0 } });
    const fc = JSON.parse(readFileSync(join(out, TILES[0]!.replace('.png', '.geojson')), 'utf8'));
    const [west, south, east, north] = geo.tileLonLatBounds(geo.parseTileName(TILES[0]!)!);
    assert.ok(fc.features.length > 0);
    for (const f of fc.features)
      for (const ring of f.geometry.type === 'Polygon' ? f.geometry.coordinates : f.geometry.coordinates.flat())
        for (const [lon, lat] of ring)
          assert.ok(lon >= west - 1e-9 && lon <= east + 1e-9 && lat >= south - 1e-9 && lat <= north + 1e-9, `${lon},${lat} in the tile`);
    // Unsimplified, one polygon per connected component of the written mask.
    const mask = await grey(join(out, TILES[0]!));
    const { count } = metrics.connectedComponents(
      Uint8Array.from(mask.data, (v) => (v ? 1 : 0)),
      256,
      256,
    );
    assert.equal(fc.features.length, count);
    // The CRF moves some pixels, and the output is still a 0/255 mask.
    await predictFiles(predictor, join(dir, 'in', TILES[0]!), { out: join(dir, 'crf'), crf: true });
    const refined = await grey(join(dir, 'crf', TILES[0]!));
    assert.ok(refined.data.every((v) => v === 0 || v === 255));
    let moved = 0;
    for (let i = 0; i < refined.data.length; i++) if (refined.data[i] !== mask.data[i]) moved++;
    assert.ok(moved > 0 && moved < refined.data.length / 4, `${moved} pixels changed by the CRF`);
  } finally {
    predictor.dispose();
  }
});
