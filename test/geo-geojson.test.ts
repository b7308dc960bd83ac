// GeoJSON building polygons (src/geo/geojson.ts, src/geo/validity.ts): each reading rule on a
// hand-written file, then the real label files in test/data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Polygon, parseGeoJson, polygonProblem, readGeoJson } from '../src/geo/index.js';

const DATA = join(dirname(fileURLToPath(import.meta.url)), 'data');

const square = (x0: number, y0: number, x1: number, y1: number): [number, number][] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
  [x0, y0],
];
const feature = (geometry: unknown, properties: unknown = null) => ({ type: 'Feature', properties, geometry });
const collection = (...features: unknown[]) => JSON.stringify({ type: 'FeatureCollection', features });

/** Area covered by a polygon: |outer| minus |holes|, by the shoelace formula. */
function area(p: Polygon): number {
  const ring = (r: [number, number][]) => {
    let s = 0;
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) s += r[j]![0] * r[i]![1] - r[i]![0] * r[j]![1];
    return Math.abs(s) / 2;
  };
  return p.reduce((sum, r, i) => sum + (i === 0 ? ring(r) : -ring(r)), 0);
}

test('a FeatureCollection: polygons, properties, feature indices, bbox, default CRS', () => {
  const text = collection(
    feature({ type: 'Polygon', coordinates: [square(1, 2, 3, 4)] }, { osm_id: 7 }),
    feature(
      {
        type: 'MultiPolygon',
        coordinates: [[square(10, 10, 11, 11)], [square(-5, 0, -4, 1), square(-4.8, 0.2, -4.2, 0.8)]],
      },
      { osm_id: 8 },
    ),
  );
  const v = parseGeoJson(text, 'labels.geojson');
  assert.equal(v.crs, 'EPSG:4326');
  assert.equal(v.source, 'labels.geojson');
  assert.equal(v.polygons.length, 3);
  assert.deepEqual(v.polygons[0], [square(1, 2, 3, 4)]);
  assert.deepEqual(v.polygons[2], [square(-5, 0, -4, 1), square(-4.8, 0.2, -4.2, 0.8)]);
  assert.deepEqual(v.featureIndex, [0, 1, 1]);
  assert.deepEqual(v.properties, [{ osm_id: 7 }, { osm_id: 8 }, { osm_id: 8 }]);
  assert.equal(v.properties[1], v.properties[2], "a MultiPolygon's parts share their feature's properties");
  assert.deepEqual(v.bbox, [-5, 0, 11, 11]);
  assert.deepEqual(v.warnings, []);
});

test('a bare Feature or geometry is read as one feature; z values are dropped', () => {
  const f = parseGeoJson(JSON.stringify(feature({ type: 'Polygon', coordinates: [square(0, 0, 1, 1)] }, { a: 1 })), 'f.json');
  assert.equal(f.polygons.length, 1);
  assert.deepEqual(f.properties, [{ a: 1 }]);
  const g = parseGeoJson(
    JSON.stringify({
      type: 'Polygon',
      coordinates: [
        [
          [0, 0, 5],
          [1, 0, 5],
          [1, 1, 5],
          [0, 0, 5],
        ],
      ],
    }),
    'g.json',
  );
  assert.deepEqual(g.polygons, [
    [
      [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 0],
      ],
    ],
  ]);
  assert.deepEqual(g.properties, [null]);
  assert.equal(parseGeoJson(collection(), 'empty.geojson').bbox, null);
});

test('text that is not JSON: the error names the file and the parser message', () => {
  assert.throws(
    () => parseGeoJson('{"type": "FeatureCollection", "features": [', 'broken.geojson'),
    (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /^broken\.geojson: not valid JSON: /);
      let parserMessage = '';
      try {
        JSON.parse('{"type": "FeatureCollection", "features": [');
      } catch (p) {
        parserMessage = (p as Error).message;
      }
      assert.ok(e.message.endsWith(parserMessage), e.message);
      return true;
    },
  );
  // A byte-order mark is not an error.
  assert.equal(parseGeoJson(`\ufeff${collection()}`, 'bom.geojson').polygons.length, 0);
});

test('a root that is not GeoJSON: the error says what type came', () => {
  assert.throws(() => parseGeoJson('{"type": "Topology", "objects": {}}', 'topo.json'), {
    message: "topo.json: expected a GeoJSON FeatureCollection, Feature or geometry, got an object of type 'Topology'",
  });
  assert.throws(() => parseGeoJson('[1, 2]', 'list.json'), {
    message: /list\.json: expected a GeoJSON FeatureCollection, Feature or geometry, got an array/,
  });
  assert.throws(() => parseGeoJson('42', 'n.json'), { message: /got 42/ });
  assert.throws(() => parseGeoJson('{"type": "FeatureCollection"}', 'fc.json'), {
    message: /fc\.json: a FeatureCollection needs a 'features' array, got undefined/,
  });
  assert.throws(() => parseGeoJson(collection({ type: 'Polygon', coordinates: [] }), 'nf.json'), {
    message: "nf.json: feature 0: expected a GeoJSON Feature, got type 'Polygon'",
  });
  assert.throws(() => parseGeoJson(collection(feature({ type: 'Circle', radius: 3 })), 'c.json'), {
    message: /c\.json: feature 0: expected a GeoJSON geometry .* got type 'Circle'/,
  });
});

test('null geometries, points and lines are skipped with a warning', () => {
  const v = parseGeoJson(
    collection(
      feature({ type: 'Polygon', coordinates: [square(0, 0, 1, 1)] }),
      feature(null),
      feature({ type: 'Point', coordinates: [0.5, 0.5] }),
      feature({
        type: 'LineString',
        coordinates: [
          [0, 0],
          [1, 1],
        ],
      }),
      feature({
        type: 'MultiLineString',
        coordinates: [
          [
            [0, 0],
            [1, 1],
          ],
        ],
      }),
      feature({ type: 'Polygon', coordinates: [] }),
    ),
    'labels.geojson',
  );
  assert.equal(v.polygons.length, 1);
  assert.deepEqual(v.warnings, [
    'labels.geojson: feature 1 has null geometry, skipped',
    'labels.geojson: feature 2 is a Point, skipped (buildings are areas: only polygons are read)',
    'labels.geojson: feature 3 is a LineString, skipped (buildings are areas: only polygons are read)',
    'labels.geojson: feature 4 is a MultiLineString, skipped (buildings are areas: only polygons are read)',
    'labels.geojson: feature 5 has an empty polygon, skipped',
  ]);
});

test('a GeometryCollection contributes its polygons', () => {
  const v = parseGeoJson(
    collection(
      feature(
        {
          type: 'GeometryCollection',
          geometries: [
            { type: 'Point', coordinates: [9, 9] },
            { type: 'Polygon', coordinates: [square(0, 0, 2, 2)] },
            { type: 'MultiPolygon', coordinates: [[square(5, 5, 6, 6)]] },
          ],
        },
        { id: 'gc' },
      ),
    ),
    'gc.geojson',
  );
  assert.deepEqual(v.polygons, [[square(0, 0, 2, 2)], [square(5, 5, 6, 6)]]);
  assert.deepEqual(v.featureIndex, [0, 0]);
  assert.deepEqual(v.properties, [{ id: 'gc' }, { id: 'gc' }]);
  assert.deepEqual(v.warnings, ['gc.geojson: feature 0 is a Point, skipped (buildings are areas: only polygons are read)']);
});

test('a ring of fewer than 4 positions, or with non-finite numbers, is an error naming the feature', () => {
  const triangle = [
    [0, 0],
    [1, 0],
    [0, 1],
  ];
  const ok = feature({ type: 'Polygon', coordinates: [square(0, 0, 1, 1)] });
  assert.throws(() => parseGeoJson(collection(ok, ok, feature({ type: 'Polygon', coordinates: [triangle] })), 'short.geojson'), {
    message: 'short.geojson: feature 2: ring 0 has 3 positions, a linear ring needs at least 4',
  });
  assert.throws(
    () =>
      parseGeoJson(
        collection(feature({ type: 'MultiPolygon', coordinates: [[square(0, 0, 1, 1)], [square(0, 0, 1, 1), triangle]] })),
        'm.geojson',
      ),
    {
      message: 'm.geojson: feature 0: part 1: ring 1 has 3 positions, a linear ring needs at least 4',
    },
  );
  // JSON cannot hold NaN; strings and nulls are what broken writers put instead.
  const bad = square(0, 0, 1, 1) as unknown[];
  bad[2] = [1, null];
  assert.throws(() => parseGeoJson(collection(ok, feature({ type: 'Polygon', coordinates: [bad] })), 'nan.geojson'), {
    message: 'nan.geojson: feature 1: position 2 of ring 0 must be [x, y] with finite numbers, got [1, null]',
  });
  bad[2] = ['1', '1'];
  assert.throws(() => parseGeoJson(collection(feature({ type: 'Polygon', coordinates: [bad] })), 's.geojson'), {
    message: /feature 0: position 2 of ring 0 must be \[x, y\] with finite numbers, got \['1', '1'\]/,
  });
  assert.throws(() => parseGeoJson(collection(feature({ type: 'Polygon', coordinates: [[1, 2, 3, 4]] })), 'p.geojson'), {
    message: /feature 0: position 0 of ring 0 must be \[x, y\]/,
  });
  assert.throws(() => parseGeoJson(collection(feature({ type: 'Polygon', coordinates: 'x' })), 'q.geojson'), {
    message: /feature 0: a Polygon needs a 'coordinates' array/,
  });
});

test('projected coordinates in a lon/lat file: an error naming the feature and the value', () => {
  const text = readFileSync(join(DATA, 'spacenet4-atlanta', 'geotiff_labels.geojson'), 'utf8');
  const json = JSON.parse(text);
  delete json.crs;
  assert.throws(
    () => parseGeoJson(JSON.stringify(json), 'atlanta.geojson'),
    (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(
        e.message,
        /^atlanta\.geojson: feature 0: position 0 of ring 0 is \[733633\.917563494, 3724917\.3270592587\], outside lon\/lat range/,
      );
      assert.match(e.message, /the CRS is EPSG:4326/);
      assert.match(e.message, /looks like projected coordinates; set the file's crs member or pass options\.crs/);
      return true;
    },
  );
  // Told the CRS, the same file reads.
  const v = parseGeoJson(JSON.stringify(json), 'atlanta.geojson', { crs: 32616 });
  assert.equal(v.crs, 'EPSG:32616');
  assert.equal(v.polygons.length, 43);
  // Latitude alone out of range counts too; values inside range in a projected CRS are fine.
  assert.throws(() => parseGeoJson(collection(feature({ type: 'Polygon', coordinates: [square(10, 80, 11, 91)] })), 'lat.geojson'), {
    message: /\[11, 91\], outside lon\/lat range/,
  });
  assert.equal(
    parseGeoJson(collection(feature({ type: 'Polygon', coordinates: [square(10, 80, 11, 91)] })), 'm.geojson', { crs: 'EPSG:3857' })
      .polygons.length,
    1,
  );
});

test('the crs member wins over options.crs, with a warning; bad options are errors', () => {
  const text = JSON.stringify({
    type: 'FeatureCollection',
    crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::3857' } },
    features: [feature({ type: 'Polygon', coordinates: [square(1e6, 1e6, 1e6 + 10, 1e6 + 10)] })],
  });
  const v = parseGeoJson(text, 'w.geojson', { crs: 'EPSG:32616' });
  assert.equal(v.crs, 'EPSG:3857');
  assert.deepEqual(v.warnings, ["w.geojson: the file's crs member says EPSG:3857, which wins over options.crs EPSG:32616"]);
  assert.throws(() => parseGeoJson(text, 'w.geojson', { srs: 4326 } as never), {
    name: 'TypeError',
    message: /parseGeoJson: unknown option 'srs'/,
  });
  assert.throws(() => parseGeoJson(text, 'w.geojson', { crs: 'EPSG:2' }), { name: 'TypeError', message: /defineCrs/ });
  const linked = JSON.stringify({ type: 'FeatureCollection', crs: { type: 'link', properties: {} }, features: [] });
  assert.throws(() => parseGeoJson(linked, 'l.geojson'), {
    message: /^l\.geojson: cannot read the crs member: geoJsonCrs: crs must be a named CRS/,
  });
});

test('a bow-tie ring is repaired into two triangles by union, with a warning', () => {
  const bowtie: [number, number][] = [
    [0, 0],
    [2, 2],
    [2, 0],
    [0, 2],
    [0, 0],
  ];
  assert.equal(polygonProblem([bowtie]), 'ring 0 crosses itself');
  const v = parseGeoJson(
    collection(
      feature({ type: 'Polygon', coordinates: [square(5, 5, 6, 6)] }),
      feature({ type: 'Polygon', coordinates: [bowtie] }, { id: 2 }),
    ),
    'b.geojson',
  );
  assert.equal(v.polygons.length, 3);
  assert.deepEqual(v.featureIndex, [0, 1, 1]);
  assert.deepEqual(v.properties.slice(1), [{ id: 2 }, { id: 2 }]);
  assert.deepEqual(v.warnings, ['b.geojson: feature 1: ring 0 crosses itself, repaired into 2 valid polygons (union)']);
  // Each lobe is the triangle with apex at the crossing (1, 1): area 1.
  assert.deepEqual(
    v.polygons.slice(1).map((p) => area(p)),
    [1, 1],
  );
  for (const p of v.polygons) assert.equal(polygonProblem(p), null);
});

test('overlapping rings are repaired; valid shapes are left alone', () => {
  // A hole sticking out of its outer ring: what is covered is the outer ring minus the part of
  // the hole inside it, 16 - 2 = 14.
  const outer = square(0, 0, 4, 4);
  const hole = square(3, 1, 5, 3);
  assert.equal(polygonProblem([outer, hole]), 'rings 0 and 1 cross');
  const v = parseGeoJson(collection(feature({ type: 'Polygon', coordinates: [outer, hole] })), 'h.geojson');
  assert.equal(v.polygons.length, 1);
  assert.equal(area(v.polygons[0]!), 14);
  assert.match(v.warnings[0]!, /^h\.geojson: feature 0: rings 0 and 1 cross, repaired into 1 valid polygon \(union\)$/);
  // Two holes overlapping each other.
  assert.equal(polygonProblem([square(0, 0, 10, 10), square(1, 1, 5, 5), square(3, 3, 7, 7)]), 'rings 1 and 2 cross');
  // A ring that doubles back along itself (a spike), and one that passes twice through a vertex.
  assert.match(
    polygonProblem([
      [
        [0, 0],
        [4, 0],
        [6, 0],
        [5, 0],
        [4, 4],
        [0, 4],
        [0, 0],
      ],
    ])!,
    /doubles back on itself at 6, 0/,
  );
  assert.match(
    polygonProblem([
      [
        [0, 0],
        [1, 1],
        [2, 0],
        [2, 2],
        [1, 1],
        [0, 2],
        [0, 0],
      ],
    ])!,
    /passes twice through 1, 1/,
  );
  // Valid: a hole inside, a hole touching the outer ring at one vertex, an open ring, repeated points.
  assert.equal(polygonProblem([square(0, 0, 10, 10), square(2, 2, 4, 4)]), null);
  assert.equal(
    polygonProblem([
      square(0, 0, 10, 10),
      [
        [0, 5],
        [3, 4],
        [3, 6],
        [0, 5],
      ],
    ]),
    null,
  );
  assert.equal(
    polygonProblem([
      [
        [0, 0],
        [4, 0],
        [4, 4],
        [0, 4],
      ],
    ]),
    null,
  );
  assert.equal(
    polygonProblem([
      [
        [0, 0],
        [4, 0],
        [4, 0],
        [4, 4],
        [0, 4],
        [0, 0],
      ],
    ]),
    null,
  );
  // Long rings (more than 32 vertices) take the sorting paths: a 100-gon is valid; swapping two
  // neighbouring vertices makes it cross itself; visiting one vertex twice is caught too.
  const circle = Array.from({ length: 100 }, (_, k): [number, number] => [
    Math.cos((k * Math.PI) / 50) * 10,
    Math.sin((k * Math.PI) / 50) * 10,
  ]);
  assert.equal(polygonProblem([circle]), null);
  const swapped = circle.slice();
  [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
  assert.equal(polygonProblem([swapped]), 'ring 0 crosses itself');
  const revisit = [...circle.slice(0, 50), [0, 0] as [number, number], ...circle.slice(50), [0, 0] as [number, number]];
  assert.match(polygonProblem([revisit])!, /passes twice through 0, 0/);
  // A concave building footprint (an L) is not a self-intersection.
  assert.equal(
    polygonProblem([
      [
        [0, 0],
        [6, 0],
        [6, 2],
        [2, 2],
        [2, 6],
        [0, 6],
        [0, 0],
      ],
    ]),
    null,
  );
});

test('the Catanduanes and Kavre labels: lon/lat building polygons with osm_id', async () => {
  const cat = await readGeoJson(join(DATA, 'oam-catanduanes', 'labels.geojson'));
  assert.equal(cat.crs, 'EPSG:4326');
  assert.equal(cat.polygons.length, 131);
  assert.deepEqual(
    cat.featureIndex,
    Array.from({ length: 131 }, (_, i) => i),
  );
  assert.deepEqual(cat.properties[0], { osm_id: 406482323 });
  assert.deepEqual(cat.polygons[0]![0]![0], [124.2670068, 13.9702628]);
  assert.deepEqual(cat.bbox, [124.2635307, 13.9686339, 124.2676618, 13.9706835]);
  assert.deepEqual(cat.warnings, []);
  const kavre = await readGeoJson(join(DATA, 'oam-kavre', 'labels.geojson'));
  assert.equal(kavre.polygons.length, 80);
  assert.deepEqual(kavre.properties[5], { osm_id: null }); // a hand-drawn building
  assert.deepEqual(kavre.bbox, [85.52363990772992, 27.6195447951768, 85.53946657303757, 27.6276205]);
  assert.deepEqual(kavre.warnings, []);
});

test('the SpaceNet labels: EPSG:32616 from the crs member, clipped to the image', async () => {
  const path = join(DATA, 'spacenet4-atlanta', 'geotiff_labels.geojson');
  const v = await readGeoJson(path);
  assert.equal(v.source, path);
  assert.equal(v.crs, 'EPSG:32616');
  assert.equal(v.polygons.length, 43);
  assert.equal((v.properties[0] as { osm_id: number }).osm_id, 102932);
  assert.deepEqual(v.polygons[0]![0]![0], [733633.917563494, 3724917.3270592587]);
  assert.deepEqual(v.bbox, [733601, 3724689, 734051, 3725139]); // the raster's extent
  assert.deepEqual(v.warnings, []);
});

test('readGeoJson names a missing file; parse errors name the path', async () => {
  await assert.rejects(readGeoJson('/nonexistent/labels.geojson'), {
    message: 'readGeoJson: cannot read /nonexistent/labels.geojson: no such file',
  });
  const dir = await mkdtemp(join(tmpdir(), 'segkit-geo-'));
  try {
    const path = join(dir, 'bad.geojson');
    await writeFile(path, 'not json');
    await assert.rejects(readGeoJson(path), { message: new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON: `) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
