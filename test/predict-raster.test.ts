// A GeoTIFF predicted strip by strip equals the whole-image prediction, keeps its georeference,
// and leaves no output behind when it fails.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { data, geo, torch } from '../src/index.js';
import { createPredictor } from '../src/infer/predictor.js';
import { predictGeoTiff } from '../src/infer/raster.js';
import { tensorTest } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = join(ROOT, 'models', 'buildings', 'model.safetensors');
const KAVRE = join(ROOT, 'data', 'demo', 'regions', 'kavre');
const [W, H] = [700, 500]; // not whole windows or strides: padding and edge strips are exercised

/** An RGB uint8 GeoTIFF of W x H pixels cut from a 3 x 2 mosaic of Kavre tiles, in EPSG:3857. */
async function mosaicTiff(dir: string): Promise<{ path: string; pixels: Uint8Array }> {
  const ds = await data.open(KAVRE);
  const tiles = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => ds.get(i)));
  const pixels = torch.tidy(() => {
    const rows = [0, 1].map((r) =>
      torch.cat(
        [0, 1, 2].map((c) => tiles[r * 3 + c]!.image),
        2,
      ),
    );
    const m = torch.cat(rows, 1).narrow(1, 0, H).narrow(2, 0, W);
    return m.mul(255).round().to({ dtype: 'uint8' }).contiguous().toArray() as Uint8Array;
  });
  torch.dispose(tiles.map((t) => [t.image, t.mask]));
  const path = join(dir, 'mosaic.tif');
  await geo.writeGeoTiff(path, pixels, {
    width: W,
    height: H,
    bands: 3,
    dtype: 'uint8',
    crs: 'EPSG:3857',
    transform: [9462000, 0.075, 0, -3106000, 0, -0.075],
  });
  return { path, pixels };
}

tensorTest('a GeoTIFF predicted strip by strip equals the whole-image prediction, with its CRS and transform', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'segkit-raster-'));
  const { path, pixels } = await mosaicTiff(dir);
  const predictor = createPredictor(MODEL, { window: 256, overlap: 64, device: 'cpu' });
  try {
    let progress = 0;
    await predictGeoTiff(predictor, path, {
      mask: join(dir, 'mask.tif'),
      probabilities: join(dir, 'prob.tif'),
      onProgress: (done) => void (progress = done),
    });
    assert.equal(progress, H);
    const whole = torch.tidy(() =>
      predictor.probabilities(
        torch
          .tensor(pixels, { shape: [3, H, W] })
          .float()
          .div(255),
      ),
    );
    const [maskR, probR] = await Promise.all([geo.openRaster(join(dir, 'mask.tif')), geo.openRaster(join(dir, 'prob.tif'))]);
    try {
      for (const r of [maskR, probR]) {
        assert.equal(r.info.crs, 'EPSG:3857');
        assert.deepEqual(r.info.transform, [9462000, 0.075, 0, -3106000, 0, -0.075]);
        assert.deepEqual([r.info.width, r.info.height, r.info.bands], [W, H, 1]);
      }
      const prob = (await probR.readWindow({ x: 0, y: 0, width: W, height: H })) as Float32Array;
      const mask = (await maskR.readWindow({ x: 0, y: 0, width: W, height: H })) as Uint8Array;
      const expected = whole.toArray() as Float32Array;
      let maxDiff = 0;
      let flips = 0;
      for (let i = 0; i < expected.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(prob[i]! - expected[i]!));
        if ((mask[i] === 1) !== prob[i]! >= predictor.threshold) flips++;
      }
      assert.ok(maxDiff < 1e-5, `max |Δp| ${maxDiff} against the whole-image prediction`);
      assert.equal(flips, 0, 'the mask is the probabilities at the threshold');
    } finally {
      await Promise.all([maskR.close(), probR.close()]);
      whole.dispose();
    }
    // The window sums carry no autograd graph outside inference mode (a graph kept every strip's
    // activations alive: 1.8 GB more per 512-row strip of a 1024-wide raster before this held).
    const sums = torch.tidy(() =>
      predictor.windowSums(predictor.prepare(torch.rand([3, 256, 256]), 0, 0), [{ x: 0, y: 0, width: 256, height: 256 }]),
    );
    assert.equal(sums.sum.requiresGrad, false);
    torch.dispose([sums.sum, sums.total]);
    // GDAL reads the same georeference.
    if (spawnSync('gdalinfo', ['--version']).status !== 0)
      assert.fail('gdalinfo (gdal-bin, the oracle) is missing: apt-get install gdal-bin');
    const info = JSON.parse(execFileSync('gdalinfo', ['-json', join(dir, 'mask.tif')], { encoding: 'utf8' }));
    assert.deepEqual(info.geoTransform, [9462000, 0.075, 0, -3106000, 0, -0.075]);
    assert.match(info.coordinateSystem.wkt, /3857/);
    // An existing output is refused before any work, and a failure leaves nothing behind.
    await assert.rejects(predictGeoTiff(predictor, path, { mask: join(dir, 'mask.tif') }), /exists/);
    await assert.rejects(
      predictGeoTiff(predictor, join(ROOT, 'test', 'data', 'spacenet4-atlanta', 'sample_geotiff.tif'), { mask: join(dir, 'pan.tif') }),
      /predictRaster: raster must be a raster of 3 band\(s\), as the model was trained on, got '1 band\(s\) in /,
    );
    assert.equal(existsSync(join(dir, 'pan.tif')), false);
    // A CRS with no EPSG code cannot go into the outputs: refused before any prediction or file.
    await assert.rejects(
      predictGeoTiff(predictor, join(ROOT, 'test', 'data', 'user-defined-crs', 'lcc-64.tif'), { mask: join(dir, 'lcc.tif') }),
      /predictGeoTiff: .*lcc-64\.tif has a user-defined projected CRS \(no EPSG code: ProjectedCSTypeGeoKey 32767, GeographicTypeGeoKey 32767, coordinate transformation 8 with its parameters in GeoKeys\), which segkit cannot write into the outputs; reproject it to an EPSG CRS first/,
    );
    assert.equal(existsSync(join(dir, 'lcc.tif')), false);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.tmp')),
      [],
    );
  } finally {
    predictor.dispose();
  }
});

tensorTest('segkit predict refines a GeoTIFF with --crf as predictGeoTiff with crf: true does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'segkit-raster-crf-cli-'));
  const { path } = await mosaicTiff(dir);
  const predictor = createPredictor(MODEL, { window: 256, device: 'cpu' });
  try {
    await predictGeoTiff(predictor, path, { mask: join(dir, 'lib.tif'), crf: true });
    await predictGeoTiff(predictor, path, { mask: join(dir, 'plain.tif') });
  } finally {
    predictor.dispose();
  }
  const cli = join(ROOT, 'dist', 'cli', 'main.js');
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      cli,
      'predict',
      path,
      '--out',
      join(dir, 'o'),
      '--format',
      'geotiff',
      '--crf',
      '--window',
      '256',
      '--device',
      'cpu',
      '--quiet',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 0, run.stderr);
  const read = async (p: string) => {
    const r = await geo.openRaster(p);
    try {
      return (await r.readWindow({ x: 0, y: 0, width: W, height: H })) as Uint8Array;
    } finally {
      await r.close();
    }
  };
  const [lib, cliMask, plain] = await Promise.all([
    read(join(dir, 'lib.tif')),
    read(join(dir, 'o', 'mosaic.mask.tif')),
    read(join(dir, 'plain.tif')),
  ]);
  assert.deepEqual(cliMask, lib);
  const changed = plain.reduce((n, v, i) => n + (v !== lib[i] ? 1 : 0), 0);
  assert.ok(changed > 100 && changed < 0.1 * W * H, `the CRF changed ${changed} pixels`);
});

test("segkit predict traces a GeoTIFF's buildings into lon/lat GeoJSON, with or without the mask GeoTIFF", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'segkit-raster-geojson-'));
  const { path } = await mosaicTiff(dir);
  const cli = join(ROOT, 'dist', 'cli', 'main.js');
  const args = (out: string, format: string) => [
    cli,
    'predict',
    path,
    '--out',
    join(dir, out),
    '--format',
    format,
    '--window',
    '256',
    '--device',
    'cpu',
    '--quiet',
  ];
  const both = spawnSync(process.execPath, args('a', 'geotiff,geojson'), { encoding: 'utf8' });
  assert.equal(both.status, 0, both.stderr);
  const only = spawnSync(process.execPath, args('b', 'geojson'), { encoding: 'utf8' });
  assert.equal(only.status, 0, only.stderr);
  assert.deepEqual(readdirSync(join(dir, 'b')), ['mosaic.geojson']);
  const a = JSON.parse(readFileSync(join(dir, 'a', 'mosaic.geojson'), 'utf8'));
  const b = JSON.parse(readFileSync(join(dir, 'b', 'mosaic.geojson'), 'utf8'));
  assert.deepEqual(a, b);
  const traced = await geo.polygonizeRaster(join(dir, 'a', 'mosaic.mask.tif'), { simplify: 1, minArea: 4 });
  assert.ok(traced.polygons.length > 5);
  assert.equal(a.features.length, traced.polygons.length);
  assert.equal(a.crs, undefined);
  // EPSG:3857 origin (9462000, -3106000) with 0.075 m pixels: about 84.9986 E, 26.8601 S.
  for (const f of a.features)
    for (const [lon, lat] of f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0]) {
      assert.ok(lon > 84.998 && lon < 85.0 && lat > -26.861 && lat < -26.859, `${lon}, ${lat}`);
    }
  const again = spawnSync(process.execPath, args('b', 'geojson'), { encoding: 'utf8' });
  assert.equal(again.status, 1);
  assert.match(again.stderr, /mosaic\.geojson exists: pass --overwrite to replace it/);
});
