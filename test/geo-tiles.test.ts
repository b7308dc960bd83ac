// Slippy-map tile maths and GDAL-order geotransforms (src/geo/tiles.ts, src/geo/transform.ts).
// Expected numbers were worked out by hand from the formulas in test/data/README.md and
// ../shared/data/README.md, evaluated with Python's math module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyTransform,
  invertTransform,
  lonLatToTile,
  lonLatToTilePixel,
  parseTileName,
  reprojector,
  tileBounds3857,
  tileLonLatBounds,
  tileTransform,
  windowTransform,
} from '../src/geo/index.js';

const HALF = 20037508.342789244; // pi * 6378137

function close(actual: readonly number[], expected: readonly number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= tol, `${what}[${i}]: ${v} vs ${expected[i]} (tol ${tol})`));
}

test('parseTileName reads <anything>-<x>-<y>-<z>.<ext>', () => {
  assert.deepEqual(parseTileName('OAM-1772464-966380-21.png'), { x: 1772464, y: 966380, z: 21 });
  assert.deepEqual(parseTileName('test/data/oam-kavre/OAM-386718-220252-19.png'), { x: 386718, y: 220252, z: 19 });
  assert.deepEqual(parseTileName('my-region-tile-0-0-0.jpg'), { x: 0, y: 0, z: 0 });
  assert.deepEqual(parseTileName('a-1073741823-0-30.webp'), { x: 2 ** 30 - 1, y: 0, z: 30 });
});

test('parseTileName returns null for names that are not tiles', () => {
  for (const name of [
    'labels.geojson',
    'OAM-1772464-966380.png', // no zoom
    'OAM-1772464-966380-21', // no extension
    'OAM-x-966380-21.png',
    '1-2-3.png', // nothing before the x
    'OAM-8-0-3.png', // x = 8 >= 2^3
    'OAM-0-8-3.png', // y = 8 >= 2^3
    'OAM-0-0-31.png', // zoom above 30
    'OAM-1-2-3.png.aux.xml',
  ]) {
    assert.equal(parseTileName(name), null, name);
  }
  assert.throws(() => parseTileName(42 as unknown as string), {
    name: 'TypeError',
    message: /parseTileName: fileName must be a string, got 42/,
  });
});

test('tile 0/0/0 covers the whole Web Mercator square', () => {
  assert.deepEqual(tileBounds3857({ x: 0, y: 0, z: 0 }), [-HALF, -HALF, HALF, HALF]);
  assert.deepEqual(tileTransform({ x: 0, y: 0, z: 0 }), [-HALF, 156543.03392804097, 0, HALF, 0, -156543.03392804097]);
  assert.deepEqual(tileTransform({ x: 0, y: 0, z: 0 }, 512), [-HALF, 156543.03392804097 / 2, 0, HALF, 0, -156543.03392804097 / 2]);
  const [w, s, e, n] = tileLonLatBounds({ x: 0, y: 0, z: 0 });
  assert.equal(w, -180);
  assert.equal(e, 180);
  close([s, n], [-85.0511287798066, 85.0511287798066], 1e-12, 'latitude limits');
  // Zoom 1: the north-east quarter.
  assert.deepEqual(tileBounds3857({ x: 1, y: 0, z: 1 }), [0, 0, HALF, HALF]);
});

test('a real Catanduanes tile: bounds, transform and the README pixel formula', () => {
  const tile = parseTileName('OAM-1772468-966381-21.png')!;
  close(tileBounds3857(tile), [13833038.319853205, 1570666.275717944, 13833057.42911027, 1570685.3849750161], 1e-7, 'bounds');
  close(tileLonLatBounds(tile), [124.26429748535156, 13.969052625563501, 124.26446914672852, 13.969219210210401], 1e-12, 'lon/lat bounds');
  const t = tileTransform(tile);
  // About 7.5 cm at zoom 21; from the bounds, as gdal_rasterize -te computes it, which loses
  // about 1e-10 to the difference of two 1.4e7 m values.
  assert.ok(Math.abs(t[1] - 0.07464553543474244) < 1e-9, `pixel size ${t[1]}`);
  assert.ok(Math.abs(t[5] + 0.07464553543474244) < 1e-9, `pixel height ${t[5]}`);
  assert.equal(t[2], 0);
  assert.equal(t[4], 0);
  // A corner of building osm_id 406482284 (labels.geojson), by the README formula.
  const [px, py] = lonLatToTilePixel(124.2643061, 13.9690624, tile);
  close([px, py], [12.847094893455505, 240.97907856106758], 1e-7, 'pixel');
  // The same point through proj4 (EPSG:3857) and the inverted tile transform.
  const [mx, my] = reprojector('EPSG:4326', 'EPSG:3857')(124.2643061, 13.9690624);
  close(applyTransform(invertTransform(t), mx, my), [px, py], 1e-6, 'pixel via EPSG:3857');
  // Corners map to 0 and 256; at 512 px everything doubles.
  const [west, south, east, north] = tileLonLatBounds(tile);
  close(lonLatToTilePixel(west, north, tile), [0, 0], 1e-6, 'north-west corner');
  close(lonLatToTilePixel(east, south, tile), [256, 256], 1e-6, 'south-east corner');
  close(lonLatToTilePixel(124.2643061, 13.9690624, tile, 512), [2 * px, 2 * py], 1e-6, '512 px');
  assert.deepEqual(lonLatToTile(124.2643061, 13.9690624, 21), tile);
  assert.deepEqual(lonLatToTile(124.2643061, 13.9690624, 19), { x: 443117, y: 241595, z: 19 });
});

test('tile functions reject tiles outside the grid', () => {
  assert.throws(() => tileBounds3857({ x: 2, y: 0, z: 1 }), {
    name: 'RangeError',
    message: /tileBounds3857: tile\.x must be an integer from 0 to 1, got 2/,
  });
  assert.throws(() => tileTransform({ x: 0, y: 0, z: 31 }), {
    name: 'RangeError',
    message: /tile\.z must be an integer from 0 to 30, got 31/,
  });
  assert.throws(() => tileTransform({ x: 0, y: 0, z: 3 }, 0), {
    name: 'RangeError',
    message: /tileTransform: size must be a positive integer, got 0/,
  });
  assert.throws(() => tileLonLatBounds(null as unknown as { x: 0; y: 0; z: 0 }), {
    name: 'TypeError',
    message: /tile must be a tile \{x, y, z\}, got null/,
  });
  assert.throws(() => lonLatToTilePixel(0, 90, { x: 0, y: 0, z: 0 }), {
    name: 'RangeError',
    message: /lat must be a finite number in \(-90, 90\)/,
  });
});

test('applyTransform, invertTransform and windowTransform on the SpaceNet grid', () => {
  const t = [733601, 0.5, 0, 3725139, 0, -0.5] as const;
  assert.deepEqual(applyTransform(t, 0, 0), [733601, 3725139]);
  assert.deepEqual(applyTransform(t, 900, 900), [734051, 3724689]);
  assert.deepEqual(applyTransform(t, 0.5, 0.5), [733601.25, 3725138.75]);
  const inv = invertTransform(t);
  assert.deepEqual(inv, [-1467202, 2, 0, 7450278, 0, -2]);
  assert.deepEqual(applyTransform(inv, 734051, 3724689), [900, 900]);
  assert.deepEqual(windowTransform(t, 100, 200), [733651, 0.5, 0, 3725039, 0, -0.5]);
  assert.deepEqual(applyTransform(windowTransform(t, 100, 200), 3, 4), applyTransform(t, 103, 204));
});

test('invertTransform of a rotated transform round-trips; a singular one is a RangeError', () => {
  const t = [1000, 0.8, 0.6, 2000, 0.6, -0.8] as const; // 1 m pixels rotated by about 36.87 degrees
  const inv = invertTransform(t);
  for (const [c, r] of [
    [0, 0],
    [10, 3],
    [-4.5, 7.25],
  ] as const) {
    const [x, y] = applyTransform(t, c, r);
    close(applyTransform(inv, x, y), [c, r], 1e-9, `(${c}, ${r})`);
  }
  close(invertTransform(inv), t, 1e-9, 'inverse of inverse');
  assert.throws(() => invertTransform([0, 1, 2, 0, 2, 4]), {
    name: 'RangeError',
    message: /invertTransform: t must be an invertible transform/,
  });
  assert.throws(() => invertTransform([0, 0, 0, 0, 0, 0]), RangeError);
  assert.throws(() => invertTransform([0, 1, 0, 0, 0] as unknown as [0, 0, 0, 0, 0, 0]), {
    name: 'TypeError',
    message: /t must be a geotransform: an array of 6 finite numbers/,
  });
});
