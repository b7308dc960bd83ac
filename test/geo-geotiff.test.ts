// GeoTIFF window reads (src/geo/geotiff.ts) against GDAL: gdalinfo's header and
// gdal_translate -srcwin windows, recorded by scripts/fixtures/make_geo_fixtures.py in
// test/fixtures/geo/geotiff.json, on the SpaceNet raster and on a small 3-band Int16, tiled,
// deflated, PixelIsPoint GeoTIFF the script writes with gdal_translate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRaster } from '../src/geo/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SPACENET = join(HERE, 'data', 'spacenet4-atlanta', 'sample_geotiff.tif');
const MULTIBAND = join(HERE, 'fixtures', 'geo', 'int16_3band_point.tif');
const FIXTURE = JSON.parse(readFileSync(join(HERE, 'fixtures', 'geo', 'geotiff.json'), 'utf8')) as {
  header: {
    size: [number, number];
    geoTransform: number[];
    type: string;
    noDataValue: number;
    block: [number, number];
    epsg: { code: number };
  };
  windows: { x: number; y: number; width: number; height: number; values: number[] }[];
  multiband: {
    size: [number, number];
    geoTransform: number[];
    type: string;
    bands: number;
    noDataValue: number;
    block: [number, number];
    areaOrPoint: string;
    epsg: { code: number };
  };
};

/** The multiband fixture's values, by the formula the fixture script wrote them with. */
const formula = (band: number, row: number, col: number) => (band + 1) * 1000 - row * 37 + col * 11 - 500;

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'segkit-geotiff-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the SpaceNet raster header equals gdalinfo', async () => {
  const r = await openRaster(SPACENET);
  try {
    const h = FIXTURE.header;
    assert.equal(h.type, 'UInt16');
    assert.deepEqual(r.info, {
      path: SPACENET,
      width: h.size[0],
      height: h.size[1],
      bands: 1,
      dtype: 'uint16',
      nodata: h.noDataValue,
      transform: h.geoTransform,
      crs: `EPSG:${h.epsg.code}`,
      tileWidth: h.block[0],
      tileHeight: h.block[1],
    });
    assert.deepEqual(r.info.transform, [733601, 0.5, 0, 3725139, 0, -0.5]);
    assert.equal(r.info.crs, 'EPSG:32616');
  } finally {
    await r.close();
  }
});

test('SpaceNet windows equal gdal_translate -srcwin, including one hanging off the corner', async () => {
  const r = await openRaster(SPACENET);
  try {
    for (const w of FIXTURE.windows) {
      const values = await r.readWindow({ x: w.x, y: w.y, width: w.width, height: w.height });
      assert.ok(values instanceof Uint16Array, `window ${w.x},${w.y}: ${values.constructor.name}`);
      assert.deepEqual([...values], w.values, `window ${w.x},${w.y} ${w.width}x${w.height}`);
    }
    const corner = FIXTURE.windows.find((w) => w.x === 896 && w.y === 897)!;
    assert.deepEqual(corner.values.slice(4, 6), [0, 0], 'gdal_translate fills past the edge with nodata');
    assert.ok(
      corner.values.slice(0, 4).every((v) => v > 0),
      'the inside part holds real values',
    );
    // The fill option replaces nodata outside; a window above-left of the raster.
    const above = await r.readWindow({ x: -2, y: -1, width: 4, height: 3 }, { fill: 7 });
    const topLeft = FIXTURE.windows.find((w) => w.x === 0 && w.y === 0)!;
    assert.deepEqual([...above], [7, 7, 7, 7, 7, 7, topLeft.values[0], topLeft.values[1], 7, 7, topLeft.values[5], topLeft.values[6]]);
  } finally {
    await r.close();
  }
});

test('readWindow checks the window, the bands and the fill', async () => {
  const r = await openRaster(SPACENET);
  try {
    const where = /^Raster\.readWindow: /;
    await assert.rejects(r.readWindow({ x: 900, y: 0, width: 10, height: 10 }), {
      name: 'RangeError',
      message:
        /window must be a window overlapping the 900 x 900 raster .*sample_geotiff\.tif, got '\{x: 900, y: 0, width: 10, height: 10\}'/,
    });
    await assert.rejects(r.readWindow({ x: -10, y: -10, width: 10, height: 5 }), RangeError);
    await assert.rejects(r.readWindow({ x: 0, y: 0, width: 0, height: 5 }), {
      name: 'RangeError',
      message: /width must be a positive integer, got 0/,
    });
    await assert.rejects(r.readWindow({ x: 0.5, y: 0, width: 1, height: 5 }), {
      name: 'RangeError',
      message: /x must be an integer, got 0\.5/,
    });
    await assert.rejects(r.readWindow({ x: 0, y: 0, w: 1, h: 1 } as never), { name: 'TypeError', message: where });
    await assert.rejects(r.readWindow({ x: 0, y: 0, width: 1, height: 1 }, { bands: [1] }), {
      name: 'RangeError',
      message: /bands must be an array of integers from 0 to 0, got \[1\]/,
    });
    await assert.rejects(r.readWindow({ x: 0, y: 0, width: 1, height: 1 }, { fill: -1 }), {
      name: 'RangeError',
      message: /fill must be an integer from 0 to 65535 for a uint16 raster, got -1/,
    });
    assert.deepEqual(
      [...(await r.readWindow({ x: 0, y: 0, width: 2, height: 1 }, { bands: [0] }))],
      FIXTURE.windows[1]!.values.slice(0, 2),
    );
  } finally {
    await r.close();
  }
  await assert.rejects(r.readWindow({ x: 0, y: 0, width: 1, height: 1 }), {
    message: /^Raster\.readWindow: .*sample_geotiff\.tif is closed$/,
  });
});

test('a 3-band Int16 tiled, deflated, PixelIsPoint GeoTIFF: header as gdalinfo, bands in the order asked', async () => {
  const m = FIXTURE.multiband;
  const r = await openRaster(MULTIBAND);
  try {
    assert.equal(m.type, 'Int16');
    assert.equal(m.areaOrPoint, 'Point');
    const { transform, ...rest } = r.info;
    assert.deepEqual(rest, {
      path: MULTIBAND,
      width: m.size[0],
      height: m.size[1],
      bands: m.bands,
      dtype: 'int16',
      nodata: -999,
      crs: `EPSG:${m.epsg.code}`,
      tileWidth: m.block[0],
      tileHeight: m.block[1],
    });
    // gdalinfo shifts the PixelIsPoint tie point to the corner; so must we (its JSON prints 15 digits).
    transform!.forEach((v, i) => assert.ok(Math.abs(v - m.geoTransform[i]!) < 1e-12, `transform[${i}] ${v} vs ${m.geoTransform[i]}`));
    // A window across four 16x16 tiles, bands 2 and 0.
    const [x, y, width, height] = [13, 14, 6, 5];
    const values = await r.readWindow({ x, y, width, height }, { bands: [2, 0] });
    assert.ok(values instanceof Int16Array);
    const expected: number[] = [];
    for (const band of [2, 0])
      for (let row = y; row < y + height; row++) for (let col = x; col < x + width; col++) expected.push(formula(band, row, col));
    assert.deepEqual([...values], expected);
    // Negative values survive, and the edge fills with nodata -999.
    const edge = await r.readWindow({ x: 38, y: 28, width: 3, height: 3 }, { bands: [0] });
    assert.deepEqual(
      [...edge],
      [formula(0, 28, 38), formula(0, 28, 39), -999, formula(0, 29, 38), formula(0, 29, 39), -999, -999, -999, -999],
    );
    assert.ok(formula(0, 29, 38) < 0);
    // All bands by default, band-sequential.
    const all = await r.readWindow({ x: 0, y: 0, width: 2, height: 1 });
    assert.deepEqual(
      [...all],
      [formula(0, 0, 0), formula(0, 0, 1), formula(1, 0, 0), formula(1, 0, 1), formula(2, 0, 0), formula(2, 0, 1)],
    );
  } finally {
    await r.close();
  }
});

test('maxPixels is checked from the header: the error names the size and the limit', async () => {
  await assert.rejects(openRaster(SPACENET, { maxPixels: 810000 - 1 }), {
    name: 'RangeError',
    message: /^openRaster: maxPixels must be at least the raster's 900 x 900 = 810000 pixels to open .*sample_geotiff\.tif, got 809999$/,
  });
  const r = await openRaster(SPACENET, { maxPixels: 810000 });
  await r.close();
  await assert.rejects(openRaster(SPACENET, { maxPixels: 0 }), {
    name: 'RangeError',
    message: /maxPixels must be a positive integer, got 0/,
  });
  await assert.rejects(openRaster(SPACENET, { limitInputPixels: 1 } as never), {
    name: 'TypeError',
    message: /unknown option 'limitInputPixels'/,
  });
});

test('files that are not TIFFs: the error names the file and its first bytes', async () => {
  // A real tile that really is a PNG.
  const png = join(HERE, 'data', 'oam-kavre', 'OAM-1546872-881008-21.png');
  await assert.rejects(openRaster(png), {
    message: `openRaster: ${png} is not a TIFF file: it starts with 89 50 4e 47 0d 0a 1a 0a (a PNG file), a TIFF starts with 49 49 2a 00 (II*) or 4d 4d 00 2a (MM*)`,
  });
  await withTemp(async (dir) => {
    const text = join(dir, 'labels.tif');
    await writeFile(text, '{"type": "FeatureCollection"}');
    await assert.rejects(openRaster(text), {
      message: new RegExp(
        `${text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not a TIFF file: it starts with 7b 22 74 79 70 65 22 3a \\(text, perhaps JSON\\)`,
      ),
    });
    const empty = join(dir, 'empty.tif');
    await writeFile(empty, '');
    await assert.rejects(openRaster(empty), { message: /empty\.tif is empty, expected a TIFF file/ });
  });
  await assert.rejects(openRaster('/nonexistent/x.tif'), { message: 'openRaster: cannot open /nonexistent/x.tif: no such file' });
});

test('truncated TIFFs are errors at open, not zeros at read', async () => {
  await withTemp(async (dir) => {
    const cut = join(dir, 'cut.tif');
    await copyFile(SPACENET, cut);
    const size = (await readFile(SPACENET)).length;
    await truncate(cut, Math.floor(size / 2));
    await assert.rejects(openRaster(cut), {
      message: new RegExp(
        `^openRaster: .*cut\\.tif is truncated: its pixel data runs to byte ${size}, the file has ${Math.floor(size / 2)} bytes$`,
      ),
    });
    await truncate(cut, 6);
    await assert.rejects(openRaster(cut), { message: /cut\.tif is truncated: 6 bytes, a TIFF header alone needs 8/ });
    await copyFile(SPACENET, cut);
    await truncate(cut, 100); // inside the first image directory (16 entries of 12 bytes from byte 8)
    await assert.rejects(openRaster(cut), {
      message: /cut\.tif is truncated: the first image directory runs to byte 202, the file has 100 bytes$/,
    });
    await copyFile(SPACENET, cut);
    await truncate(cut, 210); // past the directory, before the values it points to
    await assert.rejects(openRaster(cut), {
      message: /cut\.tif is truncated: the value of TIFF tag \d+ runs to byte \d+, the file has 210 bytes$/,
    });
    // A header pointing at an empty directory.
    await writeFile(cut, Uint8Array.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    await assert.rejects(openRaster(cut), { message: /cut\.tif is a corrupt TIFF: its first image directory \(at byte 8\) is empty/ });
  });
});
