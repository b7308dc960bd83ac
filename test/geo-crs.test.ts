// CRS names and reprojection (src/geo/crs.ts) against gdaltransform (GDAL 3.6 / PROJ), whose
// outputs scripts/fixtures/make_geo_fixtures.py recorded in test/fixtures/geo/crs.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCrs, geoJsonCrs, isLonLat, normalizeCrs, reprojector } from '../src/geo/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));

interface Case {
  from: string;
  to: string;
  input: [number, number][];
  output: [number, number][];
}
const FIXTURE = JSON.parse(readFileSync(join(HERE, 'fixtures', 'geo', 'crs.json'), 'utf8')) as Record<string, Case>;

function checkCase(c: Case, tol: number): void {
  const f = reprojector(c.from, c.to);
  c.input.forEach(([x, y], i) => {
    const [ex, ey] = c.output[i]!;
    const [ax, ay] = f(x, y);
    assert.ok(
      Math.abs(ax - ex) <= tol && Math.abs(ay - ey) <= tol,
      `${c.from} -> ${c.to} (${x}, ${y}): got (${ax}, ${ay}), gdaltransform (${ex}, ${ey})`,
    );
  });
}

test('normalizeCrs spells every known CRS as EPSG:<code>', () => {
  for (const spec of [
    4326,
    'EPSG:4326',
    'epsg:4326',
    ' EPSG:4326 ',
    '4326',
    'urn:ogc:def:crs:EPSG::4326',
    'urn:ogc:def:crs:EPSG:6.6:4326',
  ]) {
    assert.equal(normalizeCrs(spec), 'EPSG:4326', String(spec));
  }
  // CRS84 is WGS 84 in lon/lat order, which is how segkit orders EPSG:4326 anyway.
  for (const spec of ['urn:ogc:def:crs:OGC:1.3:CRS84', 'urn:ogc:def:crs:OGC::CRS84', 'CRS84', 'OGC:CRS84'])
    assert.equal(normalizeCrs(spec), 'EPSG:4326', spec);
  assert.equal(normalizeCrs('urn:ogc:def:crs:EPSG::32616'), 'EPSG:32616');
  assert.equal(normalizeCrs(32616), 'EPSG:32616');
  assert.equal(normalizeCrs(32760), 'EPSG:32760');
  assert.equal(normalizeCrs('EPSG:32601'), 'EPSG:32601');
  assert.equal(normalizeCrs('EPSG:25832'), 'EPSG:25832');
  assert.equal(normalizeCrs(4269), 'EPSG:4269');
  for (const alias of [3857, 900913, 3785, 'EPSG:900913', 'epsg:3785', 'urn:ogc:def:crs:EPSG::3857'])
    assert.equal(normalizeCrs(alias), 'EPSG:3857', String(alias));
  const proj = '+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs';
  assert.equal(normalizeCrs(proj), proj);
});

test('normalizeCrs: unknown codes say to pass a proj4 string or call defineCrs', () => {
  for (const spec of ['EPSG:2193', 32661, 'urn:ogc:def:crs:EPSG::25827', 'EPSG:32600']) {
    assert.throws(
      () => normalizeCrs(spec),
      (e: unknown) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, /^normalizeCrs: crs must be a CRS segkit knows or a proj4 string, got /);
        assert.match(e.message, /proj4 string/);
        assert.match(e.message, /defineCrs\('EPSG:\d+', '\+proj=\.\.\.'\)/);
        return true;
      },
    );
  }
  assert.throws(() => normalizeCrs(-3), {
    name: 'RangeError',
    message: /normalizeCrs: crs must be an EPSG code \(a positive integer\) or a CRS name, got -3/,
  });
  assert.throws(() => normalizeCrs('not a crs'), {
    name: 'TypeError',
    message: /normalizeCrs: crs must be an EPSG code .* got 'not a crs'/,
  });
  assert.throws(() => normalizeCrs(null as unknown as string), TypeError);
});

test('UTM 16N corners of the SpaceNet raster to lon/lat and back match gdaltransform', () => {
  checkCase(FIXTURE.utm16n_to_lonlat!, 1e-10); // degrees: about 10 um
  checkCase(FIXTURE.lonlat_to_utm16n!, 1e-6); // metres
  // A round trip returns to the metre values to well under a millimetre.
  const toLonLat = reprojector('EPSG:32616', 'urn:ogc:def:crs:OGC:1.3:CRS84');
  const toUtm = reprojector('CRS84', 'urn:ogc:def:crs:EPSG::32616');
  for (const [x, y] of FIXTURE.utm16n_to_lonlat!.input) {
    const [bx, by] = toUtm(...toLonLat(x, y));
    assert.ok(Math.abs(bx - x) < 1e-6 && Math.abs(by - y) < 1e-6, `round trip (${x}, ${y}) -> (${bx}, ${by})`);
  }
});

test('lon/lat to Web Mercator matches gdaltransform', () => {
  checkCase(FIXTURE.lonlat_to_web_mercator!, 1e-6);
  // EPSG:900913 is the same projection under an old name.
  assert.deepEqual(
    reprojector('EPSG:4326', 'EPSG:900913')(124.2670068, 13.9702628),
    reprojector('EPSG:4326', 'EPSG:3857')(124.2670068, 13.9702628),
  );
});

test('defineCrs registers a CRS segkit does not know (NZTM2000)', () => {
  const nztm = '+proj=tmerc +lat_0=0 +lon_0=173 +k=0.9996 +x_0=1600000 +y_0=10000000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs';
  defineCrs('epsg:2193', nztm);
  assert.equal(normalizeCrs('urn:ogc:def:crs:EPSG::2193'), 'EPSG:2193');
  checkCase(FIXTURE.lonlat_to_nztm!, 1e-6);
  // A proj4 string works without registering anything.
  const c = FIXTURE.lonlat_to_nztm!;
  const [x, y] = reprojector('EPSG:4326', nztm)(...c.input[0]!);
  assert.ok(Math.abs(x - c.output[0]![0]) < 1e-6 && Math.abs(y - c.output[0]![1]) < 1e-6);
  assert.throws(() => defineCrs('EPSG:9999', '+proj=nonsense'), {
    name: 'TypeError',
    message: /defineCrs: proj4Definition must be a proj4 string or WKT proj4js can read, got '\+proj=nonsense'/,
  });
  assert.throws(() => defineCrs('', nztm), { name: 'TypeError', message: /defineCrs: code must be a CRS name/ });
});

test('reprojector is the identity between two names of one CRS, with x = lon and y = lat', () => {
  const f = reprojector('EPSG:4326', 'urn:ogc:def:crs:OGC:1.3:CRS84');
  assert.deepEqual(f(124.5, 13.9), [124.5, 13.9]);
  // Axis order: a point east of Greenwich and north of the equator has positive easting and northing.
  const [e, n] = reprojector('EPSG:4326', 'EPSG:3857')(10, 50);
  assert.ok(e > 1e6 && e < 1.2e6 && n > 6e6, `${e}, ${n}`);
  assert.throws(() => reprojector('EPSG:4326', 'EPSG:1234567'), { name: 'TypeError', message: /defineCrs/ });
});

test('geoJsonCrs reads named CRS members; null without one', () => {
  assert.equal(geoJsonCrs({ type: 'FeatureCollection', features: [] }), null);
  assert.equal(geoJsonCrs({ type: 'FeatureCollection', crs: null, features: [] }), null);
  assert.equal(geoJsonCrs({ crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32616' } } }), 'EPSG:32616');
  assert.equal(geoJsonCrs({ crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:OGC:1.3:CRS84' } } }), 'EPSG:4326');
  assert.equal(geoJsonCrs({ crs: { type: 'EPSG', properties: { code: 3857 } } }), 'EPSG:3857');
  const text = readFileSync(join(HERE, 'data', 'spacenet4-atlanta', 'geotiff_labels.geojson'), 'utf8');
  assert.equal(geoJsonCrs(JSON.parse(text)), 'EPSG:32616');
  assert.throws(() => geoJsonCrs({ crs: { type: 'link', properties: { href: 'http://example.com/crs' } } }), {
    name: 'TypeError',
    message: /geoJsonCrs: crs must be a named CRS/,
  });
  assert.throws(() => geoJsonCrs({ crs: { type: 'name', properties: { name: 'EPSG:31467' } } }), /defineCrs/);
});

test('isLonLat tells geographic CRSs from projected ones', () => {
  assert.equal(isLonLat('CRS84'), true);
  assert.equal(isLonLat('EPSG:4269'), true);
  assert.equal(isLonLat('EPSG:3857'), false);
  assert.equal(isLonLat('EPSG:32616'), false);
});
