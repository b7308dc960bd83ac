// The GeoTIFF writer (src/geo/geotiff-writer.ts) against two independent readers: geotiff.js
// (through openRaster and its own readRasters) and GDAL (gdalinfo -json for the header,
// gdal_translate to raw band-sequential ENVI for the pixels, decoded by libtiff). GDAL is a test
// oracle only; these tests skip when gdal-bin is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fromFile } from 'geotiff';
import { createGeoTiff, type GeoTiffArray, type GeoTiffWriterOptions, openRaster, writeGeoTiff } from '../src/geo/index.js';
import { lzwEncode } from '../src/geo/tiff-encode.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SPACENET = join(HERE, 'data', 'spacenet4-atlanta', 'sample_geotiff.tif');
const GDAL = spawnSync('gdalinfo', ['--version']).status === 0;
const gdal = { skip: GDAL ? false : 'gdal-bin (gdalinfo, gdal_translate) is not installed' };

const UTM = [733601, 0.5, 0, 3725139, 0, -0.5] as const;

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'segkit-gtw-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface GdalInfo {
  size: [number, number];
  geoTransform?: number[];
  bands: { type: string; block: [number, number]; noDataValue?: number | string; colorInterpretation: string }[];
  metadata: { IMAGE_STRUCTURE?: Record<string, string>; ''?: Record<string, string> };
  stac?: { 'proj:epsg'?: number };
}

function gdalInfo(path: string): GdalInfo {
  return JSON.parse(execFileSync('gdalinfo', ['-json', path], { encoding: 'utf8' })) as GdalInfo;
}

/** GDAL's decoding of every pixel, band-sequential, as raw bytes. */
async function gdalPixels(path: string, dir: string): Promise<Buffer> {
  const out = join(dir, `raw-${Math.random().toString(36).slice(2)}.bin`);
  const r = spawnSync('gdal_translate', ['-q', '-of', 'ENVI', '-co', 'INTERLEAVE=BSQ', path, out], { encoding: 'utf8' });
  assert.equal(r.status, 0, `gdal_translate ${path}: ${r.stderr}`);
  assert.equal(r.stderr, '', `gdal_translate warned: ${r.stderr}`);
  const bytes = await readFile(out);
  await rm(out);
  await rm(out.replace(/\.bin$/, '.hdr'));
  await rm(`${out}.aux.xml`, { force: true });
  return bytes;
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** geotiff.js's own decoding, band-sequential. */
async function geotiffJsPixels(path: string): Promise<GeoTiffArray> {
  const tiff = await fromFile(path);
  try {
    const image = await tiff.getImage();
    const bands = (await image.readRasters({ interleave: false })) as unknown as GeoTiffArray[];
    const plane = image.getWidth() * image.getHeight();
    const out = new (bands[0]!.constructor as Uint8ArrayConstructor)(plane * bands.length);
    bands.forEach((b, i) => out.set(b as Uint8Array, i * plane));
    return out as GeoTiffArray;
  } finally {
    tiff.close();
  }
}

/** A band-sequential raster with structure (so predictors and compressors have something to find) and a little noise. */
function pattern(dtype: 'uint8' | 'uint16' | 'float32', width: number, height: number, bands: number): GeoTiffArray {
  const n = width * height * bands;
  const out = dtype === 'uint8' ? new Uint8Array(n) : dtype === 'uint16' ? new Uint16Array(n) : new Float32Array(n);
  let seed = 12345;
  for (let b = 0; b < bands; b++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const i = (b * height + y) * width + x;
        const v = 40 * b + ((x * 3 + y * 5) >> 2) + (seed >>> 29);
        out[i] =
          dtype === 'float32' ? Math.sin(x / 17 + b) * Math.cos(y / 9) * 100 + (seed >>> 20) / 4096 : dtype === 'uint16' ? v * 97 : v;
      }
    }
  }
  return out;
}

const GDAL_TYPE = { uint8: 'Byte', uint16: 'UInt16', float32: 'Float32' } as const;

const CASES = [
  { dtype: 'uint8', bands: 1, noData: 0 },
  { dtype: 'uint8', bands: 3 },
  { dtype: 'uint16', bands: 1, noData: 65535 },
  { dtype: 'float32', bands: 2, noData: -9999 },
] as const;

for (const compression of ['none', 'deflate', 'lzw'] as const) {
  for (const c of CASES) {
    const predictors: (1 | 2 | 3)[] = compression === 'none' ? [1] : [1, c.dtype === 'float32' ? 3 : 2];
    for (const predictor of predictors) {
      test(
        `round trip ${c.dtype} x${c.bands} ${compression} predictor ${predictor}: geotiff.js and GDAL read what was written`,
        gdal,
        async () => {
          await withTemp(async (dir) => {
            const [width, height, tileSize] = [300, 170, 128];
            const data = pattern(c.dtype, width, height, c.bands);
            const path = join(dir, 'out.tif');
            const noData = 'noData' in c ? c.noData : undefined;
            await writeGeoTiff(path, data, {
              width,
              height,
              bands: c.bands,
              compression,
              predictor,
              tileSize,
              crs: 32616,
              transform: UTM,
              noData,
            });
            assert.deepEqual(await readdir(dir), ['out.tif'], 'only the output is left');

            const info = gdalInfo(path);
            assert.deepEqual(info.size, [width, height]);
            assert.equal(info.bands.length, c.bands);
            assert.deepEqual(new Set(info.bands.map((b) => b.type)), new Set([GDAL_TYPE[c.dtype]]));
            assert.deepEqual(info.bands[0]!.block, [tileSize, tileSize]);
            assert.deepEqual(info.geoTransform, [...UTM]);
            assert.equal(info.stac?.['proj:epsg'], 32616);
            assert.equal(info.metadata['']?.AREA_OR_POINT, 'Area');
            assert.equal(info.metadata.IMAGE_STRUCTURE?.INTERLEAVE, c.bands > 1 ? 'PIXEL' : 'BAND');
            assert.equal(info.metadata.IMAGE_STRUCTURE?.COMPRESSION, compression === 'none' ? undefined : compression.toUpperCase());
            assert.equal(info.metadata.IMAGE_STRUCTURE?.PREDICTOR, predictor === 1 ? undefined : String(predictor));
            assert.equal(info.bands[0]!.noDataValue, noData);
            if (c.bands === 3)
              assert.deepEqual(
                info.bands.map((b) => b.colorInterpretation),
                ['Red', 'Green', 'Blue'],
              );
            assert.ok((await gdalPixels(path, dir)).equals(bytesOf(data)), 'GDAL decodes the same pixels');

            assert.ok(bytesOf(await geotiffJsPixels(path)).equals(bytesOf(data)), 'geotiff.js decodes the same pixels');
            const r = await openRaster(path);
            try {
              assert.deepEqual(
                { ...r.info, path: undefined },
                {
                  path: undefined,
                  width,
                  height,
                  bands: c.bands,
                  dtype: c.dtype,
                  nodata: noData ?? null,
                  transform: [...UTM],
                  crs: 'EPSG:32616',
                  tileWidth: tileSize,
                  tileHeight: tileSize,
                },
              );
              const win = await r.readWindow({ x: 250, y: 120, width: 50, height: 50 });
              const want = new (data.constructor as Uint8ArrayConstructor)(50 * 50 * c.bands);
              for (let b = 0; b < c.bands; b++)
                for (let y = 0; y < 50; y++)
                  for (let x = 0; x < 50; x++) want[(b * 50 + y) * 50 + x] = data[(b * height + 120 + y) * width + 250 + x]!;
              assert.ok(bytesOf(win as GeoTiffArray).equals(bytesOf(want as GeoTiffArray)), 'the bottom-right edge tile reads back');
            } finally {
              await r.close();
            }
          });
        },
      );
    }
  }
}

test(
  'the SpaceNet raster read with openRaster and rewritten window by window (LZW, unaligned windows) equals the original in GDAL',
  gdal,
  async () => {
    await withTemp(async (dir) => {
      const src = await openRaster(SPACENET);
      const path = join(dir, 'atlanta.tif');
      const { width, height, bands, dtype, transform, crs, nodata } = src.info;
      assert.equal(dtype, 'uint16');
      const w = await createGeoTiff(path, {
        width,
        height,
        bands,
        dtype,
        compression: 'lzw',
        crs: crs!,
        transform: transform!,
        noData: nodata ?? undefined,
      });
      try {
        for (let y = 0; y < height; y += 150) {
          for (let x = 0; x < width; x += 200) {
            const win = { x, y, width: Math.min(200, width - x), height: Math.min(150, height - y) };
            await w.writeWindow(win, (await src.readWindow(win)) as Uint16Array);
          }
        }
        await w.close();
      } finally {
        await src.close();
      }
      const a = gdalInfo(SPACENET);
      const b = gdalInfo(path);
      assert.deepEqual(b.size, a.size);
      assert.deepEqual(b.geoTransform, a.geoTransform);
      assert.equal(b.stac?.['proj:epsg'], 32616);
      assert.equal(b.stac?.['proj:epsg'], a.stac?.['proj:epsg']);
      assert.deepEqual(
        b.bands.map((x) => [x.type, x.noDataValue]),
        a.bands.map((x) => [x.type, x.noDataValue]),
      );
      assert.ok((await gdalPixels(path, dir)).equals(await gdalPixels(SPACENET, dir)), 'same pixels as the original');
    });
  },
);

test('windows in shuffled order, unaligned and pixel-interleaved, give the same raster as one write', gdal, async () => {
  await withTemp(async (dir) => {
    const [width, height, bands] = [530, 410, 3];
    const data = pattern('uint8', width, height, bands);
    const opts: GeoTiffWriterOptions = { width, height, bands, tileSize: 128, crs: 'EPSG:32616', transform: UTM };
    await writeGeoTiff(join(dir, 'whole.tif'), data, opts);
    const windows: { x: number; y: number; width: number; height: number }[] = [];
    for (let y = 0; y < height; y += 100)
      for (let x = 0; x < width; x += 90) windows.push({ x, y, width: Math.min(90, width - x), height: Math.min(100, height - y) });
    let seed = 7;
    for (let i = windows.length - 1; i > 0; i--) {
      seed = (seed * 16807) % 2147483647;
      const j = seed % (i + 1);
      [windows[i], windows[j]] = [windows[j]!, windows[i]!];
    }
    const w = await createGeoTiff(join(dir, 'shuffled.tif'), opts);
    for (const win of windows) {
      const px = new Uint8Array(win.width * win.height * bands);
      for (let y = 0; y < win.height; y++)
        for (let x = 0; x < win.width; x++)
          for (let b = 0; b < bands; b++) px[(y * win.width + x) * bands + b] = data[(b * height + win.y + y) * width + win.x + x]!;
      await w.writeWindow(win, px, { interleave: 'pixel' });
    }
    assert.equal(w.bufferedBytes, 0);
    await w.close();
    const whole = await gdalPixels(join(dir, 'whole.tif'), dir);
    assert.ok(whole.equals(bytesOf(data)));
    assert.ok((await gdalPixels(join(dir, 'shuffled.tif'), dir)).equals(whole));
    assert.ok(bytesOf(await geotiffJsPixels(join(dir, 'shuffled.tif'))).equals(whole));
    // Tiles are written as they complete, so only their order in the file differs: same size.
    assert.equal((await readFile(join(dir, 'shuffled.tif'))).length, (await readFile(join(dir, 'whole.tif'))).length);
  });
});

test('a rotated transform is written as ModelTransformation and a geographic EPSG code as GeographicType', gdal, async () => {
  await withTemp(async (dir) => {
    const transform = [10.5, 0.001, 0.0002, 50.25, 0.0001, -0.001] as const;
    const path = join(dir, 'rot.tif');
    const data = pattern('float32', 100, 60, 1);
    await writeGeoTiff(path, data, { width: 100, height: 60, crs: 'epsg:4326', transform, noData: Number.NaN });
    const info = gdalInfo(path);
    assert.deepEqual(info.geoTransform, [...transform]);
    assert.equal(info.stac?.['proj:epsg'], 4326);
    assert.equal(info.bands[0]!.noDataValue, 'NaN');
    const r = await openRaster(path);
    try {
      assert.deepEqual(r.info.transform, [...transform]);
      assert.equal(r.info.crs, 'EPSG:4326');
      assert.ok(Number.isNaN(r.info.nodata));
      assert.ok(bytesOf(await r.readWindow({ x: 0, y: 0, width: 100, height: 60 })).equals(bytesOf(data)));
    } finally {
      await r.close();
    }
    // A CRS name normalizeCrs knows, and no georeference at all.
    await writeGeoTiff(join(dir, 'urn.tif'), new Uint8Array(32 * 32), {
      width: 32,
      height: 32,
      crs: 'urn:ogc:def:crs:EPSG::3857',
      transform: [0, 1, 0, 0, 0, -1],
    });
    assert.equal(gdalInfo(join(dir, 'urn.tif')).stac?.['proj:epsg'], 3857);
    await writeGeoTiff(join(dir, 'plain.tif'), new Uint8Array(32 * 32), { width: 32, height: 32 });
    assert.equal(gdalInfo(join(dir, 'plain.tif')).geoTransform, undefined);
  });
});

test(
  'BigTIFF: bigTiff: true writes version 43 with 8-byte offsets that GDAL and geotiff.js read; auto picks it past 4 GB',
  gdal,
  async () => {
    await withTemp(async (dir) => {
      const path = join(dir, 'big.tif');
      const [width, height] = [200, 140];
      const data = pattern('uint16', width, height, 2);
      await writeGeoTiff(path, data, {
        width,
        height,
        bands: 2,
        bigTiff: true,
        compression: 'lzw',
        tileSize: 64,
        crs: 32616,
        transform: UTM,
        noData: 0,
      });
      const head = await readFile(path);
      assert.deepEqual([...head.subarray(0, 8)], [0x49, 0x49, 43, 0, 8, 0, 0, 0]);
      const info = gdalInfo(path);
      assert.deepEqual(info.geoTransform, [...UTM]);
      assert.equal(info.stac?.['proj:epsg'], 32616);
      assert.ok((await gdalPixels(path, dir)).equals(bytesOf(data)));
      assert.ok(bytesOf(await geotiffJsPixels(path)).equals(bytesOf(data)));
      assert.equal(spawnSync('gdalinfo', ['-mdd', 'all', path], { encoding: 'utf8' }).status, 0);

      const small = await createGeoTiff(join(dir, 'small.tif'), { width: 1000, height: 1000 });
      assert.equal(small.plan.bigTiff, false);
      await small.abort();
      // 70,000 x 70,000 RGB bytes is 14.7 GB uncompressed: decided at open, nothing written yet.
      const huge = await createGeoTiff(join(dir, 'huge.tif'), { width: 70000, height: 70000, bands: 3, compression: 'deflate' });
      assert.equal(huge.plan.bigTiff, true);
      await huge.abort();
      const forced = await createGeoTiff(join(dir, 'forced.tif'), { width: 70000, height: 70000, bigTiff: false });
      assert.equal(forced.plan.bigTiff, false);
      await forced.abort();
      assert.deepEqual(await readdir(dir), ['big.tif'], 'abort leaves nothing');
    });
  },
);

test('LZW: noise and long runs (table resets, every code width) decode in GDAL and geotiff.js', gdal, async () => {
  await withTemp(async (dir) => {
    const size = 512;
    const noise = new Uint8Array(size * size);
    let seed = 99;
    for (let i = 0; i < noise.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      noise[i] = i < size * 64 ? 0 : i < size * 128 ? (i >> 9) & 3 : seed >>> 24;
    }
    const path = join(dir, 'lzw.tif');
    await writeGeoTiff(path, noise, { width: size, height: size, compression: 'lzw', predictor: 1, tileSize: size });
    assert.ok((await gdalPixels(path, dir)).equals(bytesOf(noise)));
    assert.ok(bytesOf(await geotiffJsPixels(path)).equals(bytesOf(noise)));
    // The encoder's own output sizes: a run compresses, noise grows by at most 12 bits per byte.
    assert.ok(lzwEncode(new Uint8Array(100000)).length < 2000);
    assert.ok(lzwEncode(noise.subarray(size * 128)).length <= Math.ceil((size * 384 * 12) / 8) + 16);
    assert.deepEqual([...lzwEncode(new Uint8Array(0))], [0x80, 0x40, 0x40]);
  });
});

test('LZW: every input length up to 1200 bytes, then every 13th up to 9000, decodes in geotiff.js to the input', async () => {
  // Each length ends the stream at a different table size, which covers the code-width steps
  // (511, 1023, 2047) and the table reset (4094) falling on the last code before EOI.
  const lzw = pathToFileURL(join(HERE, '..', 'node_modules', 'geotiff', 'dist-module', 'compression', 'lzw.js')).href;
  const { default: LZWDecoder } = (await import(lzw)) as { default: new () => { decodeBlock(b: ArrayBuffer): ArrayBuffer } };
  const decoder = new LZWDecoder();
  const src = new Uint8Array(9000);
  let seed = 1;
  for (let i = 0; i < src.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    src[i] = i % 3 === 0 ? 7 : seed >>> 24;
  }
  for (let n = 0; n <= 9000; n += n < 1200 ? 1 : 13) {
    const input = src.subarray(0, n);
    const out = Buffer.from(decoder.decodeBlock(lzwEncode(input).slice().buffer));
    assert.ok(out.equals(input), `length ${n}`);
  }
});

test('memory stays bounded: a 4096 x 4096 mask written in 500 x 500 row-major windows holds at most three rows of tiles', async () => {
  await withTemp(async (dir) => {
    const size = 4096;
    const w = await createGeoTiff(join(dir, 'mask.tif'), { width: size, height: size, compression: 'deflate' });
    const tileBytes = 256 * 256;
    for (let y = 0; y < size; y += 500) {
      for (let x = 0; x < size; x += 500) {
        const win = { x, y, width: Math.min(500, size - x), height: Math.min(500, size - y) };
        const px = new Uint8Array(win.width * win.height);
        for (let i = 0; i < px.length; i++) px[i] = (x + (i % win.width)) >> 6 === (y + Math.floor(i / win.width)) >> 6 ? 255 : 0;
        await w.writeWindow(win, px);
      }
    }
    assert.equal(w.bufferedBytes, 0);
    assert.ok(w.peakBufferedBytes <= 3 * 16 * tileBytes, `peak ${w.peakBufferedBytes} bytes`);
    assert.ok(w.peakBufferedBytes < (size * size) / 4);
    await w.close();
    const r = await openRaster(join(dir, 'mask.tif'));
    const win = (await r.readWindow({ x: 4030, y: 4030, width: 66, height: 66 })) as Uint8Array;
    await r.close();
    assert.equal(win[0], 255);
    assert.equal(win[65], 0);
  });
});

test('bad options: unknown keys, tile sizes, dtypes, predictors, CRSs and nodata are TypeErrors or RangeErrors naming the option', async () => {
  await withTemp(async (dir) => {
    const path = join(dir, 'x.tif');
    const base = { width: 10, height: 10 };
    await assert.rejects(createGeoTiff(path, { ...base, tilesize: 256 } as GeoTiffWriterOptions), {
      name: 'TypeError',
      message: /GeoTiffWriter: unknown option 'tilesize'.*did you mean 'tileSize'/,
    });
    await assert.rejects(createGeoTiff(path, { ...base, tileSize: 100 }), {
      name: 'RangeError',
      message: 'GeoTiffWriter: tileSize must be a multiple of 16, got 100',
    });
    await assert.rejects(createGeoTiff(path, { ...base, dtype: 'int16' as 'uint8' }), {
      name: 'TypeError',
      message: /dtype must be one of 'uint8', 'uint16', 'float32'/,
    });
    await assert.rejects(createGeoTiff(path, { ...base, compression: 'zstd' as 'lzw' }), {
      name: 'TypeError',
      message: /compression must be/,
    });
    await assert.rejects(createGeoTiff(path, { ...base, predictor: 3 }), {
      name: 'RangeError',
      message: /predictor must be 1 or 2 for uint8 samples, got 3/,
    });
    await assert.rejects(createGeoTiff(path, { ...base, compression: 'none', predictor: 2 }), {
      name: 'RangeError',
      message: /predictor must be 1 without compression/,
    });
    await assert.rejects(createGeoTiff(path, { ...base, crs: '+proj=longlat' }), {
      name: 'TypeError',
      message: /crs must be an EPSG code/,
    });
    await assert.rejects(createGeoTiff(path, { ...base, crs: 4978 }), {
      name: 'RangeError',
      message: /crs must be a 2D projected or geographic EPSG code/,
    });
    await assert.rejects(createGeoTiff(path, { ...base, transform: [1, 2, 3] as unknown as [0, 0, 0, 0, 0, 0] }), {
      name: 'TypeError',
      message: /transform must be a geotransform/,
    });
    await assert.rejects(createGeoTiff(path, { ...base, noData: 256 }), {
      name: 'RangeError',
      message: /noData must be an integer from 0 to 255 for uint8 samples, got 256/,
    });
    await assert.rejects(createGeoTiff(path, { ...base, bigTiff: 'yes' as 'auto' }), {
      name: 'TypeError',
      message: /bigTiff must be true, false or 'auto'/,
    });
    await assert.rejects(createGeoTiff(path, { width: 0, height: 10 }), { name: 'RangeError', message: /width must be/ });
    await assert.rejects(writeGeoTiff(path, [1, 2] as unknown as Uint8Array, base), {
      name: 'TypeError',
      message: /writeGeoTiff: data must be a Uint8Array/,
    });
    assert.deepEqual(await readdir(dir), []);
  });
});

test('bad windows: wrong dtype, wrong length, outside the raster, pixels written twice; missing pixels fail close and leave no file', async () => {
  await withTemp(async (dir) => {
    const path = join(dir, 'w.tif');
    const w = await createGeoTiff(path, { width: 100, height: 80, tileSize: 32 });
    const where = /^GeoTiffWriter\.writeWindow: /;
    await assert.rejects(w.writeWindow({ x: 0, y: 0, width: 10, height: 10 }, new Float32Array(100)), {
      name: 'TypeError',
      message: /data must be a Uint8Array \(the writer's dtype is uint8\), got a Float32Array/,
    });
    await assert.rejects(w.writeWindow({ x: 0, y: 0, width: 10, height: 10 }, new Uint8Array(99)), { name: 'RangeError', message: where });
    await assert.rejects(w.writeWindow({ x: 95, y: 0, width: 10, height: 10 }, new Uint8Array(100)), {
      name: 'RangeError',
      message: /window must be a window inside the 100 x 80 raster, got '\{x: 95, y: 0, width: 10, height: 10\}'/,
    });
    await assert.rejects(w.writeWindow({ x: -1, y: 0, width: 10, height: 10 }, new Uint8Array(100)), {
      name: 'RangeError',
      message: /x must be/,
    });
    await assert.rejects(w.writeWindow({ x: 0, y: 0, width: 10, height: 10, z: 1 } as never, new Uint8Array(100)), {
      name: 'TypeError',
      message: /unknown option 'z'/,
    });
    await w.writeWindow({ x: 0, y: 0, width: 40, height: 40 }, new Uint8Array(1600).fill(1));
    await assert.rejects(w.writeWindow({ x: 30, y: 30, width: 5, height: 5 }, new Uint8Array(25)), { message: /already written/ });
    await assert.rejects(w.writeWindow({ x: 35, y: 5, width: 2, height: 2 }, new Uint8Array(4)), {
      message: /tile \(1, 0\) already written/,
    });
    assert.equal(w.bufferedBytes, 3 * 32 * 32, 'three tiles started, none of them finished but (0, 0)');
    const names = await readdir(dir);
    assert.equal(names.length, 1);
    assert.match(names[0]!, /^\.w\.tif\..*\.tmp$/, 'the temporary name while writing');
    await assert.rejects(w.close(), {
      message:
        /GeoTiffWriter\.close: .*w\.tif: 6400 of its 8000 pixels were never written \(11 of 12 tiles incomplete, the first tile \(1, 0\): window \{x: 32, y: 0, width: 32, height: 32\}\); nothing was written/,
    });
    assert.deepEqual(await readdir(dir), []);
    await assert.rejects(w.writeWindow({ x: 50, y: 50, width: 1, height: 1 }, new Uint8Array(1)), { message: /is aborted/ });

    const a = await createGeoTiff(path, { width: 10, height: 10 });
    await a.writeWindow({ x: 0, y: 0, width: 10, height: 5 }, new Uint8Array(50));
    await a.abort();
    await a.abort();
    assert.deepEqual(await readdir(dir), []);
  });
});

test('existing outputs are refused without overwrite and kept intact; folders that cannot be written are clear errors', async () => {
  await withTemp(async (dir) => {
    const path = join(dir, 'exists.tif');
    await writeFile(path, 'keep me');
    await assert.rejects(writeGeoTiff(path, new Uint8Array(4), { width: 2, height: 2 }), {
      message: `GeoTiffWriter: ${path} already exists; pass overwrite: true to replace it`,
    });
    assert.equal(await readFile(path, 'utf8'), 'keep me');
    // The output appears while writing: still refused at close, and the other file survives.
    const racing = await createGeoTiff(join(dir, 'late.tif'), { width: 2, height: 2 });
    await racing.writeWindow({ x: 0, y: 0, width: 2, height: 2 }, new Uint8Array(4));
    await writeFile(join(dir, 'late.tif'), 'other');
    await assert.rejects(racing.close(), { message: /late\.tif appeared while it was being written/ });
    assert.equal(await readFile(join(dir, 'late.tif'), 'utf8'), 'other');
    await writeGeoTiff(path, new Uint8Array([1, 2, 3, 4]), { width: 2, height: 2, overwrite: true });
    const r = await openRaster(path);
    assert.deepEqual([...((await r.readWindow({ x: 0, y: 0, width: 2, height: 2 })) as Uint8Array)], [1, 2, 3, 4]);
    await r.close();
    await assert.rejects(writeGeoTiff(join(dir, 'nope', 'x.tif'), new Uint8Array(4), { width: 2, height: 2 }), {
      message: `GeoTiffWriter: cannot write ${join(dir, 'nope', 'x.tif')}: its folder ${join(dir, 'nope')} does not exist`,
    });
    await assert.rejects(writeGeoTiff(join(path, 'x.tif'), new Uint8Array(4), { width: 2, height: 2 }), { message: /is not a folder/ });
    await assert.rejects(writeGeoTiff(dir, new Uint8Array(4), { width: 2, height: 2, overwrite: true }), { message: /it is a folder/ });
    assert.deepEqual((await readdir(dir)).sort(), ['exists.tif', 'late.tif']);
  });
});
