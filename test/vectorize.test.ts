// Masks to polygons (src/geo/trace.ts, vectorize.ts, simplify.ts, regularize.ts,
// geojson-write.ts): hand-made masks, then the real OpenStreetMap building labels burnt onto the
// real tiles with the repo's rasteriser, traced back and burnt again (exact without
// simplification), against the mask's connected components and against gdal_polygonize (a test
// oracle only, skipped where gdal-bin is missing), and georeferenced back onto the labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  invertTransform,
  isValidPolygon,
  lonLatToTilePixel,
  type MaskPolygon,
  makeValid,
  maskToPolygons,
  openRaster,
  type Polygon,
  parseGeoJson,
  parseTileName,
  polygonArea,
  polygonIoU,
  polygonsToGeoJson,
  polygonsToPixels,
  rasterize,
  readGeoJson,
  reprojector,
  type TileId,
  tileTransform,
  transformPolygons,
  validityError,
} from '../src/geo/index.js';
import { connectedComponents } from '../src/metrics/components.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const GDAL_POLYGONIZE = '/usr/bin/gdal_polygonize.py';

/** A mask from rows of '#' (object) and '.' characters. */
function drawn(...rows: string[]): { mask: Uint8Array; width: number; height: number } {
  const width = rows[0]!.length;
  return { mask: Uint8Array.from(rows.join(''), (c) => (c === '#' ? 1 : 0)), width, height: rows.length };
}

/** The polygons burnt back with the repo's rasteriser, in pixel coordinates. */
function burn(result: readonly MaskPolygon[], width: number, height: number): Uint8Array {
  return rasterize(
    result.flatMap((r) => r.parts),
    { width, height },
  );
}

function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0;
    const y = b[i] !== 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}

function assertAllValid(result: readonly MaskPolygon[], what: string): void {
  for (const [i, r] of result.entries()) assert.equal(validityError(r.parts), null, `${what}: polygon ${i} is valid`);
}

function vertexCount(result: readonly MaskPolygon[]): number {
  return result.reduce((n, r) => n + r.parts.reduce((m, p) => m + p.reduce((k, ring) => k + ring.length - 1, 0), 0), 0);
}

// ---- Hand-made masks

test('a single pixel is a unit square; empty and full masks', () => {
  const one = maskToPolygons(drawn('...', '.#.', '...').mask, { width: 3, height: 3 });
  assert.equal(one.length, 1);
  assert.deepEqual(one[0]!.parts, [
    [
      [
        [2, 1],
        [2, 2],
        [1, 2],
        [1, 1],
        [2, 1],
      ],
    ],
  ]);
  assert.equal(one[0]!.area, 1);
  assert.equal(one[0]!.pixels, 1);
  assert.deepEqual(maskToPolygons(new Uint8Array(12), { width: 4, height: 3 }), []);
  assert.deepEqual(maskToPolygons(new Uint8Array(0), { width: 0, height: 0 }), []);
  const full = maskToPolygons(new Uint8Array(12).fill(255), { width: 4, height: 3 });
  assert.equal(full.length, 1);
  assert.equal(full[0]!.parts[0]!.length, 1, 'no hole');
  assert.equal(full[0]!.parts[0]![0]!.length, 5, 'four corners, closed');
  assert.equal(full[0]!.area, 12);
  assert.deepEqual(burn(full, 4, 3), new Uint8Array(12).fill(1));
});

test('a ring with a hole: one polygon, the hole a separate ring inside', () => {
  const { mask, width, height } = drawn('#####', '#...#', '#.#.#', '#...#', '#####');
  const result = maskToPolygons(mask, { width, height });
  assert.equal(result.length, 2, 'the ring and the island in its hole');
  assert.equal(result[0]!.parts.length, 1);
  assert.equal(result[0]!.parts[0]!.length, 2, 'an outer ring and a hole');
  assert.equal(result[0]!.area, 16);
  assert.equal(result[1]!.area, 1);
  assertAllValid(result, 'ring');
  assert.deepEqual(burn(result, width, height), mask);
});

test('two pixels touching at a corner: two polygons under 4-connectivity, one valid MultiPolygon under 8', () => {
  const { mask, width, height } = drawn('#.', '.#');
  const four = maskToPolygons(mask, { width, height });
  assert.equal(four.length, 2);
  assert.equal(four.length, connectedComponents(mask, width, height).count);
  const eight = maskToPolygons(mask, { width, height, connectivity: 8 });
  assert.equal(eight.length, 1);
  assert.equal(eight[0]!.parts.length, 2, 'two parts touching at (1, 1)');
  assert.equal(eight[0]!.pixels, 2);
  assert.equal(connectedComponents(mask, width, height, { connectivity: 8 }).count, 1);
  assertAllValid(four, '4');
  assertAllValid(eight, '8');
  assert.deepEqual(burn(eight, width, height), mask);
  // Written as one self-touching ring (what gdal_polygonize -8 writes), it is invalid.
  assert.notEqual(
    validityError([
      [
        [0, 0],
        [1, 0],
        [1, 1],
        [2, 1],
        [2, 2],
        [1, 2],
        [1, 1],
        [0, 1],
        [0, 0],
      ],
    ]),
    null,
  );
});

test('holes touching the outline at a corner stay separate rings, and every ring is simple', () => {
  // The hole at (1, 2) meets the outside at corner (2, 3) under 4-connectivity; under 8 the
  // background pixel (2, 2) is enclosed and touches the outline at two corners.
  const { mask, width, height } = drawn('###.', '#.#.', '##.#', '..##');
  for (const connectivity of [4, 8] as const) {
    const result = maskToPolygons(mask, { width, height, connectivity });
    assert.equal(result.length, connectedComponents(mask, width, height, { connectivity }).count);
    assertAllValid(result, `connectivity ${connectivity}`);
    assert.deepEqual(burn(result, width, height), mask, `connectivity ${connectivity}`);
  }
  // A U-shaped object whose inner pixel touches the outside only at a corner.
  const u = drawn('.....', '.###.', '.#...', '.###.', '.....');
  const one = maskToPolygons(u.mask, { width: u.width, height: u.height });
  assert.equal(one.length, 1);
  assertAllValid(one, 'U');
  const notch = drawn('....', '.##.', '.#..', '.###', '....');
  const n = maskToPolygons(notch.mask, { width: 4, height: 5 });
  assert.equal(n.length, 1);
  assert.equal(n[0]!.parts[0]!.length, 1, 'an open notch is no hole');
  const pinch = drawn('#####', '#...#', '#..##', '#.#.#', '#####');
  for (const connectivity of [4, 8] as const) {
    const result = maskToPolygons(pinch.mask, { width: 5, height: 5, connectivity });
    assertAllValid(result, `pinch ${connectivity}`);
    assert.deepEqual(burn(result, 5, 5), pinch.mask);
  }
});

test('a checkerboard: one polygon per pixel under 4-connectivity, one MultiPolygon under 8', () => {
  const size = 9;
  const mask = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) mask[y * size + x] = (x + y) % 2 === 0 ? 1 : 0;
  const four = maskToPolygons(mask, { width: size, height: size });
  assert.equal(four.length, 41);
  assert.ok(four.every((r) => r.area === 1 && r.parts.length === 1));
  const eight = maskToPolygons(mask, { width: size, height: size, connectivity: 8 });
  assert.equal(eight.length, 1);
  assert.equal(eight[0]!.parts.length, 41);
  assert.equal(eight[0]!.area, 41);
  assertAllValid(four, 'checkerboard 4');
  assertAllValid(eight, 'checkerboard 8');
  assert.deepEqual(burn(eight, size, size), mask);
});

test('objects touching the raster edges are closed along the edges', () => {
  const { mask, width, height } = drawn('##..#', '#...#', '....#', '##.##');
  const result = maskToPolygons(mask, { width, height });
  assert.equal(result.length, connectedComponents(mask, width, height).count);
  assertAllValid(result, 'edges');
  assert.deepEqual(burn(result, width, height), mask);
  for (const r of result)
    for (const [x, y] of r.parts[0]![0]!) assert.ok(x >= 0 && x <= width && y >= 0 && y <= height, 'vertices inside the raster');
});

test('random masks round trip exactly under both connectivities', () => {
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let k = 0; k < 30; k++) {
    const width = 5 + Math.floor(random() * 30);
    const height = 5 + Math.floor(random() * 30);
    const density = 0.2 + random() * 0.6;
    const mask = Uint8Array.from({ length: width * height }, () => (random() < density ? 1 : 0));
    for (const connectivity of [4, 8] as const) {
      const result = maskToPolygons(mask, { width, height, connectivity });
      assert.equal(result.length, connectedComponents(mask, width, height, { connectivity }).count);
      assertAllValid(result, `random ${k} connectivity ${connectivity}`);
      assert.deepEqual(burn(result, width, height), mask, `random mask ${k}, connectivity ${connectivity}`);
    }
  }
});

test('the validity check catches a bow-tie, and makeValid repairs it', () => {
  const bowTie: Polygon = [
    [
      [0, 0],
      [2, 2],
      [2, 0],
      [0, 2],
      [0, 0],
    ],
  ];
  assert.match(validityError(bowTie) ?? '', /Self-intersection/);
  assert.equal(isValidPolygon(bowTie), false);
  const repaired = makeValid(bowTie);
  assert.equal(repaired.length, 2, 'both lobes kept');
  assert.ok(repaired.every((p) => isValidPolygon(p)));
  assert.ok(Math.abs(polygonArea(repaired) - 2) < 1e-9);
  const holeOutside: Polygon = [
    [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
      [0, 0],
    ],
    [
      [2, 2],
      [3, 2],
      [3, 3],
      [2, 3],
      [2, 2],
    ],
  ];
  assert.notEqual(validityError(holeOutside), null);
});

test('options are checked through the validation module', () => {
  const mask = new Uint8Array(4);
  assert.throws(() => maskToPolygons(mask, { width: 2, height: 2, minArea: -1 }), {
    name: 'RangeError',
    message: 'maskToPolygons: minArea must be a non-negative number, got -1',
  });
  assert.throws(() => maskToPolygons(mask, { width: 2, height: 2, connectivity: 6 as 4 }), {
    name: 'RangeError',
    message: 'maskToPolygons: connectivity must be 4 or 8, got 6',
  });
  assert.throws(() => maskToPolygons(mask, { width: 2, height: 2, simplfy: 1 } as never), {
    name: 'TypeError',
    message: /unknown option 'simplfy'.*did you mean 'simplify'/,
  });
  assert.throws(() => maskToPolygons(mask, { width: 2, height: 2, simplify: '1' as never }), { name: 'TypeError' });
  assert.throws(() => maskToPolygons(mask, { width: 3, height: 2 }), { name: 'RangeError' });
  assert.throws(() => maskToPolygons([1, 0] as never, { width: 2, height: 1 }), { name: 'TypeError' });
  assert.throws(() => maskToPolygons(mask, { width: 2, height: 2, units: 'metres' }), /needs a transform or a tile/);
  assert.throws(() => maskToPolygons(mask, { width: 2, height: 2, regularize: { minIoU: 2 } }), {
    name: 'RangeError',
    message: 'maskToPolygons: regularize.minIoU must be a number from 0 to 1, got 2',
  });
  assert.throws(() => polygonsToGeoJson([], { lonLat: 'no' as never }), { name: 'TypeError' });
});

// ---- Real labels on real tiles

interface TileMask {
  name: string;
  tile: TileId;
  mask: Uint8Array;
  labels: Polygon[];
}

const SIZE = 256;

/** Every tile of a folder with its labels burnt as the tiles data source burns them. */
async function tileMasks(dir: string): Promise<TileMask[]> {
  const labels = await readGeoJson(join(dir, 'labels.geojson'));
  const mercator = transformPolygons(labels.polygons, reprojector(labels.crs, 'EPSG:3857'));
  const out: TileMask[] = [];
  for (const file of readdirSync(dir).sort()) {
    const tile = parseTileName(file);
    if (!tile) continue;
    const pixels = polygonsToPixels(mercator, invertTransform(tileTransform(tile, SIZE)));
    const mask = rasterize(pixels, { width: SIZE, height: SIZE });
    out.push({ name: file, tile, mask, labels: labels.polygons });
  }
  return out;
}

const REAL_DIRS = [
  join(ROOT, 'test/data/oam-catanduanes'),
  join(ROOT, 'test/data/oam-kavre'),
  ...['nairobi', 'kavre'].map((r) => join(ROOT, 'data/demo/regions', r)),
].filter((d) => existsSync(join(d, 'labels.geojson')));

let realCache: TileMask[] | null = null;
async function realTiles(): Promise<TileMask[]> {
  realCache ??= (await Promise.all(REAL_DIRS.map(tileMasks))).flat();
  return realCache;
}

test('real label masks: traced polygons burn back to the exact mask, one per connected component', async () => {
  const tiles = await realTiles();
  assert.ok(tiles.length > 150, `${tiles.length} real tiles`);
  let polygons = 0;
  let withHoles = 0;
  for (const t of tiles) {
    for (const connectivity of [4, 8] as const) {
      const result = maskToPolygons(t.mask, { width: SIZE, height: SIZE, connectivity });
      assert.equal(result.length, connectedComponents(t.mask, SIZE, SIZE, { connectivity }).count, `${t.name} ${connectivity}`);
      assert.equal(iou(burn(result, SIZE, SIZE), t.mask), 1, `${t.name}: exact round trip`);
      assert.deepEqual(burn(result, SIZE, SIZE), t.mask);
      assertAllValid(result, t.name);
      if (connectivity === 4) {
        polygons += result.length;
        withHoles += result.filter((r) => r.parts[0]!.length > 1).length;
      }
    }
  }
  console.log(`# ${tiles.length} real tiles: ${polygons} polygons (${withHoles} with holes), all exact and valid`);
});

test('real label masks: simplification keeps topology and validity, with far fewer vertices', async () => {
  const tiles = await realTiles();
  let before = 0;
  let after = 0;
  let worst = 1;
  let iouSum = 0;
  for (const t of tiles) {
    const exact = maskToPolygons(t.mask, { width: SIZE, height: SIZE });
    const simple = maskToPolygons(t.mask, { width: SIZE, height: SIZE, simplify: 1 });
    assert.equal(simple.length, exact.length, `${t.name}: no polygon lost`);
    assertAllValid(simple, t.name);
    for (const [i, s] of simple.entries()) assert.equal(s.parts[0]!.length, exact[i]!.parts[0]!.length, `${t.name}: holes kept`);
    // Neighbours stay apart: all of the tile's polygons together are a valid MultiPolygon, whose
    // parts may touch at points but never overlap or cross.
    const all = simple.flatMap((s) => s.parts);
    if (all.length > 1) assert.equal(validityError(all), null, `${t.name}: simplified polygons overlap`);
    before += vertexCount(exact);
    after += vertexCount(simple);
    const tileIoU = iou(burn(simple, SIZE, SIZE), t.mask);
    worst = Math.min(worst, tileIoU);
    iouSum += tileIoU;
  }
  assert.ok(after < 0.3 * before, `vertices ${before} -> ${after}`);
  // Small fragments at tile edges lose the most; the pooled IoU over every tile is what a user sees.
  assert.ok(iouSum / tiles.length > 0.98, `mean tile IoU after simplify 1 px: ${iouSum / tiles.length}`);
  assert.ok(worst > 0.9, `worst tile IoU after simplify 1 px: ${worst}`);
  console.log(
    `# simplify 1 px: vertices ${before} -> ${after}, worst tile IoU ${worst.toFixed(4)}, mean ${(iouSum / tiles.length).toFixed(4)}`,
  );
});

test('real label masks: regularised outlines have right angles and IoU > 0.9 with the traced ones', async () => {
  const tiles = await realTiles();
  let squared = 0;
  let kept = 0;
  let iouSum = 0;
  let worst = 1;
  for (const t of tiles.slice(0, 120)) {
    const exact = maskToPolygons(t.mask, { width: SIZE, height: SIZE });
    const regular = maskToPolygons(t.mask, { width: SIZE, height: SIZE, simplify: 1, regularize: { minIoU: 0.85 } });
    assert.equal(regular.length, exact.length);
    assertAllValid(regular, t.name);
    for (const [i, r] of regular.entries()) {
      const ring = r.parts[0]![0]!;
      let right = true;
      for (let k = 0; k + 1 < ring.length; k++) {
        const a = ring[k === 0 ? ring.length - 2 : k - 1]!;
        const b = ring[k]!;
        const c = ring[k + 1]!;
        const u = [b[0] - a[0], b[1] - a[1]];
        const v = [c[0] - b[0], c[1] - b[1]];
        const cos = (u[0]! * v[0]! + u[1]! * v[1]!) / (Math.hypot(u[0]!, u[1]!) * Math.hypot(v[0]!, v[1]!));
        if (Math.abs(cos) > 1e-9) right = false;
      }
      if (!right) {
        kept++;
        continue;
      }
      const overlap = polygonIoU(r.parts, exact[i]!.parts);
      worst = Math.min(worst, overlap);
      iouSum += overlap;
      squared++;
    }
  }
  // Buildings cut by the tile's edge and tiny fragments cannot all be squared: they stay simplified.
  assert.ok(squared > 0.6 * (squared + kept), `${squared} squared, ${kept} kept as simplified`);
  assert.ok(iouSum / squared > 0.9, `mean IoU ${iouSum / squared}`);
  assert.ok(worst >= 0.85, `worst IoU ${worst}`);
  console.log(
    `# regularize: ${squared} squared (every corner 90 degrees), ${kept} kept simplified; IoU with the traced outline: mean ${(iouSum / squared).toFixed(3)}, worst ${worst.toFixed(3)}`,
  );
});

test('real label masks against gdal_polygonize: same polygon count and total area, 4- and 8-connected', async (t) => {
  if (!existsSync(GDAL_POLYGONIZE)) return t.skip('gdal-bin is not installed');
  const tiles = (await realTiles()).slice(0, 64);
  // One mosaic, tiles one background pixel apart so no object spans two.
  const cols = 8;
  const rows = Math.ceil(tiles.length / cols);
  const width = cols * (SIZE + 1);
  const height = rows * (SIZE + 1);
  const mosaic = new Uint8Array(width * height);
  tiles.forEach((tm, k) => {
    const ox = (k % cols) * (SIZE + 1);
    const oy = Math.floor(k / cols) * (SIZE + 1);
    for (let y = 0; y < SIZE; y++) mosaic.set(tm.mask.subarray(y * SIZE, (y + 1) * SIZE), (oy + y) * width + ox);
  });
  const dir = mkdtempSync(join(tmpdir(), 'segkit-polygonize-'));
  try {
    const pgm = join(dir, 'mask.pgm');
    writeFileSync(pgm, Buffer.concat([Buffer.from(`P5\n${width} ${height}\n255\n`), Buffer.from(mosaic)]));
    for (const connectivity of [4, 8] as const) {
      const out = join(dir, `out${connectivity}.geojson`);
      const args = [GDAL_POLYGONIZE, '-q', ...(connectivity === 8 ? ['-8'] : []), pgm, '-f', 'GeoJSON', out];
      execFileSync('/usr/bin/python3', args, { stdio: 'pipe' });
      const gdal = JSON.parse(readFileSync(out, 'utf8')) as {
        features: { properties: { DN: number }; geometry: { coordinates: Polygon } }[];
      };
      const objects = gdal.features.filter((f) => f.properties.DN !== 0);
      // GDAL writes y up from the top edge (no geotransform: y = -row); areas are unsigned.
      const gdalArea = objects.reduce((a, f) => a + polygonArea(f.geometry.coordinates), 0);
      const ours = maskToPolygons(mosaic, { width, height, connectivity });
      const ourArea = ours.reduce((a, r) => a + r.area, 0);
      assert.equal(ours.length, objects.length, `connectivity ${connectivity}: polygon count`);
      assert.equal(ourArea, gdalArea, `connectivity ${connectivity}: total area`);
      console.log(`# gdal_polygonize ${connectivity}-connected: ${objects.length} polygons, area ${gdalArea} px, same as ours`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- Georeference

test('tile polygons in lon/lat fall on the label polygons they were burnt from (within a pixel)', async () => {
  const dir = join(ROOT, 'test/data/oam-catanduanes');
  const labels = await readGeoJson(join(dir, 'labels.geojson'));
  let checked = 0;
  let farthest = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('-21.png'))) {
    const tile = parseTileName(file)!;
    for (const label of labels.polygons) {
      // Labels wholly inside the tile, burnt alone, traced alone.
      const px = label.map((ring) => ring.map(([lon, lat]) => lonLatToTilePixel(lon, lat, tile, SIZE)));
      if (!px[0]!.every(([x, y]) => x > 1 && y > 1 && x < SIZE - 1 && y < SIZE - 1)) continue;
      const mask = rasterize([px], { width: SIZE, height: SIZE });
      const traced = maskToPolygons(mask, { width: SIZE, height: SIZE, tile });
      const geojson = polygonsToGeoJson(traced, { crs: 'EPSG:3857' });
      assert.equal(geojson.crs, undefined, 'RFC 7946: no crs member');
      for (const feature of geojson.features) {
        assert.equal(feature.geometry.type, 'Polygon');
        const rings = feature.geometry.coordinates as number[][][];
        for (const [lon, lat] of rings[0]!) {
          const [x, y] = lonLatToTilePixel(lon!, lat!, tile, SIZE);
          assert.ok(Math.abs(x - Math.round(x)) < 1e-6 && Math.abs(y - Math.round(y)) < 1e-6, 'vertices on pixel corners');
          let nearest = Infinity;
          for (const ring of px) {
            for (let k = 0; k + 1 < ring.length; k++) nearest = Math.min(nearest, segmentDistance(x, y, ring[k]!, ring[k + 1]!));
          }
          assert.ok(nearest <= 1, `${file}: traced vertex ${x}, ${y} is ${nearest} px from its label`);
          farthest = Math.max(farthest, nearest);
        }
        // RFC 7946 winding: the outer ring is counterclockwise in lon/lat.
        assert.ok(signedArea(rings[0]!) > 0, 'outer ring counterclockwise');
        // The area property is in square metres: at zoom 21 a pixel is about 7.4 cm on the ground here.
        const pixelMetres = (2 * Math.PI * 6378137 * Math.cos((labels.bbox![1] * Math.PI) / 180)) / 2 ** 21 / SIZE;
        const pixels = traced[0]!.pixels;
        assert.ok(Math.abs((feature.properties.area as number) / (pixels * pixelMetres ** 2) - 1) < 0.01, 'area in m²');
      }
      checked++;
    }
  }
  assert.ok(checked > 20, `${checked} labels checked`);
  console.log(`# ${checked} labels traced alone: every lon/lat vertex within ${farthest.toFixed(3)} px of its label`);
});

function segmentDistance(x: number, y: number, a: [number, number], b: [number, number]): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / len2));
  return Math.hypot(x - a[0] - t * dx, y - a[1] - t * dy);
}

function signedArea(ring: number[][]): number {
  let s = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) s += ring[j]![0]! * ring[i]![1]! - ring[i]![0]! * ring[j]![1]!;
  return s / 2;
}

test('the SpaceNet GeoTIFF round trips in its own CRS (EPSG:32616, crs member) and through lon/lat', async () => {
  const dir = join(ROOT, 'test/data/spacenet4-atlanta');
  const raster = await openRaster(join(dir, 'sample_geotiff.tif'));
  const { width, height, transform, crs } = raster.info;
  await raster.close();
  assert.equal(crs, 'EPSG:32616');
  const labels = await readGeoJson(join(dir, 'geotiff_labels.geojson'));
  const inverse = invertTransform(transform!);
  const mask = rasterize(polygonsToPixels(labels.polygons, inverse), { width, height });
  const traced = maskToPolygons(mask, { width, height, transform: transform!, crs: crs! });
  assert.equal(traced.length, connectedComponents(mask, width, height).count);
  assert.ok(traced.length > 20);
  // Areas in square metres: 0.25 m² pixels.
  for (const t of traced) assert.ok(Math.abs(t.area - t.pixels * 0.25) < 1e-6 * t.area);

  const own = polygonsToGeoJson(traced, { crs: crs!, lonLat: false });
  assert.deepEqual(own.crs, { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32616' } });
  const back = parseGeoJson(JSON.stringify(own), 'own.geojson');
  assert.equal(back.crs, 'EPSG:32616');
  assert.deepEqual(rasterize(polygonsToPixels(back.polygons, inverse), { width, height }), mask, 'exact in UTM');

  const wgs = polygonsToGeoJson(traced, { crs: crs! });
  assert.equal(wgs.crs, undefined);
  const lonLat = parseGeoJson(JSON.stringify(wgs), 'wgs.geojson');
  assert.equal(lonLat.crs, 'EPSG:4326');
  const utm = transformPolygons(lonLat.polygons, reprojector('EPSG:4326', 'EPSG:32616'));
  const again = rasterize(polygonsToPixels(utm, inverse), { width, height });
  assert.ok(iou(again, mask) > 0.99, `lon/lat round trip IoU ${iou(again, mask)}`);
  console.log(`# SpaceNet: ${traced.length} polygons, exact in EPSG:32616, IoU ${iou(again, mask).toFixed(6)} through lon/lat`);

  // Pixel-space polygons georeferenced by the writer give the same features.
  const pixels = maskToPolygons(mask, { width, height });
  const viaWriter = polygonsToGeoJson(pixels, { transform: transform!, crs: crs!, lonLat: false });
  assert.deepEqual(
    viaWriter.features.map((f) => f.geometry),
    own.features.map((f) => f.geometry),
  );

  // minArea in square metres, a score from a probability raster.
  const probabilities = new Float32Array(width * height).map((_, i) => (mask[i] ? 0.75 : 0.1));
  const big = maskToPolygons(mask, { width, height, transform: transform!, crs: crs!, minArea: 50, units: 'metres', probabilities });
  assert.equal(big.length, traced.filter((t) => t.area >= 50).length);
  assert.ok(big.length < traced.length && big.length > 0);
  for (const b of big) assert.ok(Math.abs(b.score! - 0.75) < 1e-6);
});
