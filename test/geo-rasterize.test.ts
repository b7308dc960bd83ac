// Rasterising polygons (src/geo/rasterize.ts): hand-made cases whose masks were drawn by hand
// from GDAL's rule, then gdal_rasterize itself as the oracle (test/fixtures/geo/, made by
// scripts/fixtures/make_geo_fixtures.py): seeded polygons full of edges through pixel centres,
// and the real building labels burnt onto real tiles and onto the SpaceNet GeoTIFF's grid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type GeoTransform,
  invertTransform,
  type Polygon,
  polygonsToPixels,
  rasterize,
  readGeoJson,
  reprojector,
  type TileId,
  tileTransform,
  transformPolygons,
} from '../src/geo/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => JSON.parse(readFileSync(join(HERE, 'fixtures', 'geo', name), 'utf8'));

/** A mask from rows of '0'/'1' characters. */
function mask(...rows: string[]): Uint8Array {
  return Uint8Array.from(rows.join(''), (c) => Number(c));
}

/** Rows of a mask as strings, for readable failures. */
function rows(m: Uint8Array, width: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < m.length; i += width) out.push([...m.subarray(i, i + width)].join(''));
  return out;
}

function assertMask(actual: Uint8Array, expected: Uint8Array, width: number, what: string): void {
  assert.deepEqual(rows(actual, width), rows(expected, width), what);
}

/** Run lengths (0-run first) back to a mask. */
function unrle(runs: number[], n: number): Uint8Array {
  const m = new Uint8Array(n);
  let i = 0;
  runs.forEach((r, k) => {
    if (k % 2 === 1) m.fill(1, i, i + r);
    i += r;
  });
  assert.equal(i, n, 'run lengths add up to the mask size');
  return m;
}

const square = (x0: number, y0: number, x1: number, y1: number): [number, number][] => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
  [x0, y0],
];

test('a square with a hole: the hole is cut out; pixel-aligned edges burn nothing outside, even allTouched', () => {
  const polygon: Polygon = [square(1, 1, 7, 7), square(3, 3, 5, 5)];
  const expected = mask('00000000', '01111110', '01111110', '01100110', '01100110', '01111110', '01111110', '00000000');
  assertMask(rasterize([polygon], { width: 8, height: 8 }), expected, 8, 'centres');
  assertMask(rasterize([polygon], { width: 8, height: 8, allTouched: true }), expected, 8, 'allTouched');
  // Holes are even-odd, whichever way the rings run.
  const reversed: Polygon = [square(1, 1, 7, 7).reverse(), square(3, 3, 5, 5)];
  assertMask(rasterize([reversed], { width: 8, height: 8 }), expected, 8, 'reversed outer ring');
});

test('a triangle: pixel centres inside burn; allTouched adds every pixel the area touches', () => {
  // x >= 0.2, y >= 0.2, x + y <= 5.9. Centre (c + 0.5, r + 0.5) is inside when c + r <= 4;
  // pixel (c, r) is touched when its top-left corner is: c + r <= 5 (5.9 passes through no corner).
  const triangle: Polygon = [
    [
      [0.2, 0.2],
      [5.7, 0.2],
      [0.2, 5.7],
      [0.2, 0.2],
    ],
  ];
  assertMask(
    rasterize([triangle], { width: 6, height: 6 }),
    mask('111110', '111100', '111000', '110000', '100000', '000000'),
    6,
    'centres',
  );
  assertMask(
    rasterize([triangle], { width: 6, height: 6, allTouched: true }),
    mask('111111', '111110', '111100', '111000', '110000', '100000'),
    6,
    'allTouched',
  );
  // An open ring (no closing position) burns the same.
  assertMask(
    rasterize([[triangle[0]!.slice(0, 3)]], { width: 6, height: 6, allTouched: true }),
    rasterize([triangle], { width: 6, height: 6, allTouched: true }),
    6,
    'open ring',
  );
});

test('a bow-tie burns its two lobes (even-odd), not the space between them', () => {
  // Edges x = 1.5y and x = 6 - 1.5y cross at (3, 2); row r's centre line y = r + 0.5 meets them
  // at 0.75/5.25, 2.25/3.75, 3.75/2.25, 5.25/0.75.
  const bowtie: Polygon = [
    [
      [0, 0],
      [6, 4],
      [6, 0],
      [0, 4],
      [0, 0],
    ],
  ];
  assertMask(rasterize([bowtie], { width: 6, height: 4 }), mask('100001', '110011', '110011', '100001'), 6, 'bow-tie');
});

test('polygons off the raster burn nothing; partly off, only the part inside', () => {
  const off = [[square(-10, -10, -5, -5)], [square(5, 5, 9, 9)], [square(0, 10, 4, 12)]];
  for (const allTouched of [false, true]) {
    assertMask(rasterize(off, { width: 4, height: 4, allTouched }), new Uint8Array(16), 4, `off the raster, allTouched ${allTouched}`);
    assertMask(
      rasterize([[square(-2, -2, 2, 2)]], { width: 4, height: 4, allTouched }),
      mask('1100', '1100', '0000', '0000'),
      4,
      'partly off',
    );
  }
  // Far-away vertices must not overflow anything.
  assertMask(rasterize([[square(-1e12, -1e12, 1e12, 1e12)]], { width: 4, height: 4 }), new Uint8Array(16).fill(1), 4, 'huge polygon');
});

test('centres exactly on edges follow GDAL: left edge out, right edge in, top and bottom rows in', () => {
  // The square (0.5, 0.5)-(2.5, 2.5) has pixel centres on all four edges; gdal_rasterize burns
  // columns 1-2 (x = 0.5 out, 2.5 in) and rows 0-2 (the horizontal rule), whichever way it runs.
  const expected = mask('0110', '0110', '0110', '0000');
  assertMask(rasterize([[square(0.5, 0.5, 2.5, 2.5)]], { width: 4, height: 4 }), expected, 4, 'clockwise on screen');
  assertMask(rasterize([[square(0.5, 0.5, 2.5, 2.5).reverse()]], { width: 4, height: 4 }), expected, 4, 'counter-clockwise');
});

test('overlapping polygons both burn; burn and out', () => {
  const polygons = [[square(0, 0, 3, 3)], [square(2, 2, 4, 4)]];
  assertMask(rasterize(polygons, { width: 4, height: 4 }), mask('1110', '1110', '1111', '0011'), 4, 'overlap');
  const out = new Uint8Array(16).fill(9);
  const result = rasterize(polygons, { width: 4, height: 4, burn: 200, out });
  assert.equal(result, out, 'burns onto the given mask');
  assert.deepEqual([...out], [200, 200, 200, 9, 200, 200, 200, 9, 200, 200, 200, 200, 9, 9, 200, 200]);
  assert.deepEqual([...rasterize([], { width: 2, height: 1 })], [0, 0]);
  // Rings far apart within one polygon (the scanline skips the rows between them).
  assertMask(
    rasterize([[square(0, 0, 2, 1), square(0, 5, 2, 6)]], { width: 2, height: 7 }),
    mask('11', '00', '00', '00', '00', '11', '00'),
    2,
    'rings apart',
  );
});

test('rasterize checks its arguments', () => {
  const p = [[square(0, 0, 1, 1)]];
  assert.throws(() => rasterize(p, { width: 0, height: 4 }), {
    name: 'RangeError',
    message: 'rasterize: width must be a positive integer, got 0',
  });
  assert.throws(() => rasterize(p, { width: 4 } as never), {
    name: 'TypeError',
    message: 'rasterize: height must be a positive integer, got undefined',
  });
  assert.throws(() => rasterize(p, { width: 4, height: 4, burn: 256 }), {
    name: 'RangeError',
    message: 'rasterize: burn must be an integer from 0 to 255, got 256',
  });
  assert.throws(() => rasterize(p, { width: 4, height: 4, allTouched: 1 as never }), {
    name: 'TypeError',
    message: 'rasterize: allTouched must be true or false, got 1',
  });
  assert.throws(() => rasterize(p, { width: 4, height: 4, out: new Uint8Array(15) }), {
    name: 'RangeError',
    message: 'rasterize: out.length must be width*height = 16, got 15',
  });
  assert.throws(() => rasterize(p, { width: 4, height: 4, out: new Float32Array(16) as never }), {
    name: 'TypeError',
    message: /out must be a Uint8Array of width\*height = 16, got a Float32Array/,
  });
  assert.throws(() => rasterize(p, { width: 4, height: 4, all_touched: true } as never), {
    name: 'TypeError',
    message: /unknown option 'all_touched'.*did you mean 'allTouched'/,
  });
  assert.throws(
    () =>
      rasterize(
        [
          [
            [
              [0, 0],
              [1, Number.NaN],
              [1, 1],
            ],
          ],
        ],
        { width: 4, height: 4 },
      ),
    { name: 'RangeError', message: /rasterize: polygons\[0\]\[0\]\[1\] must be \[x, y\] with finite numbers, got \[1, NaN\]/ },
  );
  assert.throws(() => rasterize([[[[0, 0], 'x']]] as never, { width: 4, height: 4 }), {
    name: 'TypeError',
    message: /polygons\[0\]\[0\]\[1\] must be \[x, y\]/,
  });
  assert.throws(() => rasterize([square(0, 0, 1, 1)] as never, { width: 4, height: 4 }), {
    name: 'TypeError',
    message: /polygons\[0\]\[0\] must be a ring/,
  });
  assert.throws(() => rasterize({} as never, { width: 4, height: 4 }), {
    name: 'TypeError',
    message: /polygons must be an array of polygons/,
  });
});

test('transformPolygons and polygonsToPixels map every vertex', () => {
  const world: Polygon[] = [[square(733601, 3725139 - 2, 733601 + 2, 3725139)]];
  const t: GeoTransform = [733601, 0.5, 0, 3725139, 0, -0.5];
  assert.deepEqual(polygonsToPixels(world, invertTransform(t)), [[square(0, 4, 4, 0)]]);
  assert.deepEqual(
    transformPolygons(world, (x, y) => [x - 733601, y]),
    [[square(0, 3725137, 2, 3725139)]],
  );
  assert.throws(() => polygonsToPixels(world, [1, 2] as never), {
    name: 'TypeError',
    message: /polygonsToPixels: inverse must be a geotransform/,
  });
});

test('gdal_rasterize agrees pixel for pixel on seeded polygons with edges through pixel centres', () => {
  const { width, height, cases, gdal } = fixture('rasterize_synthetic.json') as {
    width: number;
    height: number;
    gdal: string;
    cases: { polygon: Polygon; centre: number[]; allTouched: number[] }[];
  };
  assert.equal(cases.length, 40);
  let burnt = 0;
  cases.forEach((c, i) => {
    for (const allTouched of [false, true]) {
      const expected = unrle(allTouched ? c.allTouched : c.centre, width * height);
      burnt += expected.reduce((a, b) => a + b, 0);
      assertMask(rasterize([c.polygon], { width, height, allTouched }), expected, width, `case ${i}, allTouched ${allTouched} (${gdal})`);
    }
  });
  assert.ok(burnt > 2000, `the fixture burns ${burnt} pixels`);
});

interface TileCase {
  region: string;
  file: string;
  tile?: TileId;
  bounds: [number, number, number, number];
  width: number;
  height: number;
  centre: number[];
  allTouched: number[];
}

/** Distance from (px, py) to the nearest polygon edge. */
function distanceToEdges(px: number, py: number, polygons: Polygon[]): number {
  let best = Infinity;
  for (const polygon of polygons) {
    for (const ring of polygon) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [ax, ay] = ring[j]!;
        const [bx, by] = ring[i]!;
        const dx = bx - ax;
        const dy = by - ay;
        const len = dx * dx + dy * dy;
        const s = len === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len));
        best = Math.min(best, Math.hypot(ax + s * dx - px, ay + s * dy - py));
      }
    }
  }
  return best;
}

test('gdal_rasterize agrees on the real labels over real tiles and the SpaceNet grid', async (t) => {
  const { cases, gdal } = fixture('rasterize_tiles.json') as { cases: TileCase[]; gdal: string };
  assert.equal(cases.length, 8);
  const labels = new Map<string, Polygon[]>();
  for (const c of cases) {
    const path = c.tile ? join(HERE, 'data', c.region, 'labels.geojson') : join(HERE, 'data', c.region, 'geotiff_labels.geojson');
    if (!labels.has(c.file)) {
      const v = await readGeoJson(path);
      // Tiles are EPSG:3857; the SpaceNet grid is the labels' own EPSG:32616.
      labels.set(c.file, c.tile ? transformPolygons(v.polygons, reprojector(v.crs, 'EPSG:3857')) : v.polygons);
    }
    const [minx, miny, maxx, maxy] = c.bounds;
    const transform: GeoTransform = c.tile
      ? tileTransform(c.tile)
      : [minx, (maxx - minx) / c.width, 0, maxy, 0, -((maxy - miny) / c.height)];
    const pixels = polygonsToPixels(labels.get(c.file)!, invertTransform(transform));
    for (const allTouched of [false, true]) {
      const expected = unrle(allTouched ? c.allTouched : c.centre, c.width * c.height);
      const actual = rasterize(pixels, { width: c.width, height: c.height, allTouched });
      let both = 0;
      let either = 0;
      const differ: number[] = [];
      for (let i = 0; i < expected.length; i++) {
        if (expected[i] && actual[i]) both++;
        if (expected[i] || actual[i]) either++;
        if (expected[i] !== actual[i]) differ.push(i);
      }
      const iou = either === 0 ? 1 : both / either;
      t.diagnostic(`${c.file} allTouched=${allTouched}: ${both} pixels burnt by both, ${differ.length} differ from ${gdal}, IoU ${iou}`);
      assert.ok(iou >= 0.999, `${c.file}: IoU ${iou}`);
      // Rounding (PROJ against proj4js) may only flip pixels whose centre (or, allTouched, whose
      // square) an edge passes through exactly.
      for (const i of differ) {
        const d = distanceToEdges((i % c.width) + 0.5, Math.floor(i / c.width) + 0.5, pixels);
        assert.ok(allTouched ? d <= Math.SQRT1_2 + 1e-6 : d < 1e-6, `${c.file}: pixel ${i} differs ${d} px from the nearest edge`);
      }
      assert.ok(differ.length <= 2, `${c.file}: ${differ.length} pixels differ`);
    }
  }
});
