// The row polygonizer against maskToPolygons on the whole mask: the same polygons, vertex for
// vertex and in the same order, whatever the strip heights, on random masks (fast-check) and on
// a mosaic of real label masks whose buildings cross strip boundaries; polygonizeRaster on
// GeoTIFFs read strip by strip; and the errors bad options and bad windows give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  createPolygonizer,
  invertTransform,
  type MaskPolygon,
  type MaskToPolygonsOptions,
  maskToPolygons,
  parseTileName,
  polygonizeRaster,
  type PolygonizerOptions,
  polygonsToGeoJson,
  polygonsToPixels,
  rasterize,
  readGeoJson,
  reprojector,
  tileTransform,
  transformPolygons,
  writeGeoTiff,
} from '../src/geo/index.js';
import { assertThrows, REGIONS } from './helpers.js';

/** A mask from rows of '#' (object) and '.' characters. */
function drawn(...rows: string[]): { mask: Uint8Array; width: number; height: number } {
  const width = rows[0]!.length;
  return { mask: Uint8Array.from(rows.join(''), (c) => (c === '#' ? 1 : 0)), width, height: rows.length };
}

/** Feeds `mask` to a polygonizer in strips of the given heights (cycled), then finishes. */
async function inStrips(mask: Uint8Array, options: PolygonizerOptions, heights: readonly number[]): Promise<MaskPolygon[]> {
  const { width, height } = options;
  const p = createPolygonizer(options);
  for (let y = 0, k = 0; y < height; k++) {
    const h = Math.min(heights[k % heights.length]!, height - y);
    await p.writeWindow({ x: 0, y, width, height: h }, mask.subarray(y * width, (y + h) * width));
    y += h;
  }
  assert.equal(p.rows, height);
  return p.finish();
}

// ---- Hand-made masks

test('a U whose arms meet two strips down is one polygon; objects come in raster order of their first pixel', async () => {
  const { mask, width, height } = drawn('#...#..', '#...#.#', '#...#..', '#####..', '.......', '..###..');
  const whole = maskToPolygons(mask, { width, height });
  assert.equal(whole.length, 3);
  for (const heights of [[1], [2], [3, 1], [6]]) {
    const ours = await inStrips(mask, { width, height }, heights);
    assert.deepEqual(ours, whole, `strips of ${heights}`);
  }
  const ours = await inStrips(mask, { width, height }, [1]);
  assert.deepEqual(
    ours.map((p) => p.pixels),
    [11, 1, 3],
  );
  assert.equal(ours[0]!.parts[0]![0]!.length, 9, 'the U: eight corners, closed');
});

test('a ring cut through its hole by a strip boundary keeps its hole; empty, one-row and full masks', async () => {
  const { mask, width, height } = drawn('#####', '#...#', '#.#.#', '#...#', '#####');
  const whole = maskToPolygons(mask, { width, height });
  assert.equal(whole[0]!.parts[0]!.length, 2, 'an outer ring and a hole');
  assert.deepEqual(await inStrips(mask, { width, height }, [2, 1]), whole);
  assert.deepEqual(await inStrips(new Uint8Array(12), { width: 4, height: 3 }, [1]), []);
  assert.deepEqual(await inStrips(new Uint8Array(0), { width: 0, height: 0 }, [1]), []);
  assert.deepEqual(await inStrips(new Uint8Array(0), { width: 0, height: 3 }, [2]), []);
  const full = new Uint8Array(12).fill(255);
  assert.deepEqual(await inStrips(full, { width: 4, height: 3 }, [1]), maskToPolygons(full, { width: 4, height: 3 }));
  const row = Uint8Array.from([1, 1, 0, 1]);
  assert.deepEqual(await inStrips(row, { width: 4, height: 1 }, [1]), maskToPolygons(row, { width: 4, height: 1 }));
});

test('simplification keeps neighbours in other strips apart, as the whole-mask run does', async () => {
  // Simplified alone, the big object's outline would cut through the bar at the top left.
  const { mask, width, height } = drawn('.#...', '.#.#.', '..##.', '#####', '.####');
  const options = { width, height, simplify: 2 };
  const whole = maskToPolygons(mask, options);
  assert.equal(whole.length, 2);
  const bigAlone = maskToPolygons(
    Uint8Array.from(mask, (v, i) => (i === 1 || i === 6 ? 0 : v)),
    options,
  );
  assert.notDeepEqual(bigAlone[0]!.parts, whole[1]!.parts, 'the bar changes how the big object simplifies');
  for (const heights of [[1], [2], [2, 3], [5]]) assert.deepEqual(await inStrips(mask, options, heights), whole, `strips of ${heights}`);
});

test('an object beside one still receiving rows waits for it: the earlier object later reaches under it', async () => {
  // The T at the top right is complete after two rows, a pixel right of the big object's box so
  // far; the big object (earlier: its first pixel is at 0, 0) then grows right under the T, and
  // its shortcut from (1, 2) to (9, 3) is judged against the T as traced.
  const { mask, width, height } = drawn('#....###.', '#.....#..', '####.....', '.#..#####', '.#....#..', '.######..', '......#..');
  const options = { width, height, simplify: 2.5 };
  const whole = maskToPolygons(mask, options);
  assert.deepEqual(
    whole.map((p) => p.parts[0]![0]!.length),
    [7, 5],
  );
  assert.deepEqual(whole[0]!.parts[0]![0]!.slice(1, 3), [
    [1, 2],
    [9, 3],
  ]);
  for (const heights of [[1], [2], [3]]) assert.deepEqual(await inStrips(mask, options, heights), whole, `strips of ${heights}`);
});

// ---- Random masks

test('random masks in random strips: exactly maskToPolygons on the whole mask, for every option', async () => {
  const masks = fc.tuple(fc.integer({ min: 1, max: 18 }), fc.integer({ min: 1, max: 18 })).chain(([width, height]) =>
    fc.record({
      width: fc.constant(width),
      height: fc.constant(height),
      bits: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: width * height, maxLength: width * height }),
      density: fc.integer({ min: 1, max: 9 }),
      heights: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 8 }),
      connectivity: fc.constantFrom(4 as const, 8 as const),
      simplify: fc.constantFrom(0, 0, 0.5, 1, 1.5, 2.5),
      minArea: fc.constantFrom(0, 0, 2, 5),
      regularize: fc.boolean(),
    }),
  );
  let objects = 0;
  await fc.assert(
    fc.asyncProperty(masks, async ({ width, height, bits, density, heights, ...rest }) => {
      const mask = Uint8Array.from(bits, (b) => (b < density ? 1 : 0));
      const options = { width, height, ...rest };
      const whole = maskToPolygons(mask, options);
      objects += whole.length;
      assert.deepEqual(await inStrips(mask, options, heights), whole);
    }),
    { numRuns: 250, seed: 20240611 },
  );
  assert.ok(objects > 500, `${objects} objects compared`);
});

// ---- Real label masks

const SIZE = 256;

/** Every demo tile's building mask, burnt from its region's labels. */
async function realTileMasks(): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const region of ['catanduanes', 'kavre', 'nairobi', 'zanzibar']) {
    const dir = join(REGIONS, region);
    const labels = await readGeoJson(join(dir, 'labels.geojson'));
    const mercator = transformPolygons(labels.polygons, reprojector(labels.crs, 'EPSG:3857'));
    for (const file of readdirSync(dir).sort()) {
      const tile = parseTileName(file);
      if (tile) out.push(rasterize(polygonsToPixels(mercator, invertTransform(tileTransform(tile, SIZE))), { width: SIZE, height: SIZE }));
    }
  }
  return out;
}

/** `cols` by `rows` tiles (cycling through `tiles`) a background pixel apart, so that no object spans two: `PITCH` apart. */
const PITCH = SIZE + 1;
function mosaic(tiles: readonly Uint8Array[], cols: number, rows: number): Uint8Array {
  const width = cols * PITCH;
  const out = new Uint8Array(width * rows * PITCH);
  for (let k = 0; k < cols * rows; k++) {
    const tile = tiles[k % tiles.length]!;
    const ox = (k % cols) * PITCH;
    const oy = Math.floor(k / cols) * PITCH;
    for (let y = 0; y < SIZE; y++) out.set(tile.subarray(y * SIZE, (y + 1) * SIZE), (oy + y) * width + ox);
  }
  return out;
}

test('a mosaic of real label masks in strips of 37, 100 and 1 rows: the whole-mask polygons, with buildings across strip boundaries', async () => {
  const tiles = await realTileMasks();
  assert.ok(tiles.length > 200, `${tiles.length} real tiles`);
  const [cols, rows] = [12, 4];
  const width = cols * PITCH;
  const height = rows * PITCH;
  const mask = mosaic(tiles.slice(40), cols, rows);
  const cases: [Partial<MaskToPolygonsOptions>, number[]][] = [
    [{}, [37]],
    [{ connectivity: 8 }, [100, 1, 13]],
    [{ simplify: 1.5, minArea: 40 }, [37]],
    [{ simplify: 1, regularize: true }, [100]],
  ];
  for (const [extra, heights] of cases) {
    const options = { width, height, ...extra };
    const t0 = performance.now();
    const whole = maskToPolygons(mask, options);
    const t1 = performance.now();
    const ours = await inStrips(mask, options, heights);
    const t2 = performance.now();
    assert.deepEqual(ours, whole, JSON.stringify(extra));
    // Objects whose rows span a strip boundary: they were pieced together from several strips.
    const across = ours.filter((p) => {
      const ys = p.parts.flatMap((part) => part[0]!.map((q) => q[1]));
      return Math.floor(Math.min(...ys) / heights[0]!) !== Math.floor((Math.max(...ys) - 1) / heights[0]!);
    }).length;
    assert.ok(whole.length > 100 && across > 40, `${whole.length} polygons, ${across} across strip boundaries`);
    console.log(
      `# ${width}x${height} ${JSON.stringify(extra)}: ${whole.length} polygons (${across} across strips of ${heights[0]}): whole ${(t1 - t0).toFixed(0)} ms, strips ${(t2 - t1).toFixed(0)} ms`,
    );
  }
});

test('memory follows the strip: a tall mosaic holds the objects of a few tile rows at a time, not all of them', async () => {
  const tiles = await realTileMasks();
  const [cols, rows] = [2, 48];
  const width = cols * PITCH;
  const height = rows * PITCH;
  const mask = mosaic(tiles, cols, rows);
  const options = { width, height, simplify: 1 };
  const p = createPolygonizer(options);
  for (let y = 0; y < height; y += 64) {
    const h = Math.min(64, height - y);
    await p.writeWindow({ x: 0, y, width, height: h }, mask.subarray(y * width, (y + h) * width));
  }
  const ours = p.finish();
  assert.deepEqual(ours, maskToPolygons(mask, options));
  // Two tiles a row: an object spans at most one tile row, so a strip meets at most three.
  const perTileRow = ours.length / rows;
  assert.ok(ours.length > 150, `${ours.length} polygons`);
  assert.ok(p.peakHeld <= 4 * perTileRow + 4, `held at most ${p.peakHeld} of ${ours.length} objects`);
  console.log(`# ${width}x${height} in strips of 64 rows: held at most ${p.peakHeld} of ${ours.length} objects at once`);
});

// ---- GeoTIFFs

test('polygonizeRaster: a georeferenced mask GeoTIFF read in strips gives the whole-mask polygons in pixels, areas in square metres', async () => {
  const tiles = await realTileMasks();
  const width = 4 * PITCH;
  const height = 3 * PITCH;
  const mask = mosaic(tiles.slice(100), 4, 3);
  const transform = [500000, 0.3, 0, 4200000, 0, -0.3] as const;
  const dir = await mkdtemp(join(tmpdir(), 'segkit-polygonize-'));
  try {
    const path = join(dir, 'mask.tif');
    await writeGeoTiff(path, mask, { width, height, tileSize: 64, crs: 32616, transform });
    const got = await polygonizeRaster(path, { rowsPerStrip: 45, connectivity: 8, simplify: 1 });
    assert.deepEqual([got.width, got.height, got.crs, got.transform], [width, height, 'EPSG:32616', transform]);
    const pixels = maskToPolygons(mask, { width, height, connectivity: 8, simplify: 1 });
    const mapped = maskToPolygons(mask, { width, height, connectivity: 8, simplify: 1, transform, crs: 32616 });
    assert.ok(pixels.length > 20, `${pixels.length} polygons`);
    assert.deepEqual(
      got.polygons.map((p) => [p.parts, p.pixels]),
      pixels.map((p) => [p.parts, p.pixels]),
    );
    assert.deepEqual(
      got.polygons.map((p) => p.area),
      mapped.map((p) => p.area),
    );
    // A pixel is 0.09 square metres (up to the rounding of coordinates in the millions).
    assert.ok(Math.abs(got.polygons[0]!.area - pixels[0]!.area * 0.09) < 0.01, `${got.polygons[0]!.area} vs ${pixels[0]!.area} px`);
    // Handed to polygonsToGeoJson with the raster's georeference: the GeoJSON of the mapped polygons.
    const a = polygonsToGeoJson(got.polygons, { transform: got.transform!, crs: got.crs!, lonLat: false });
    assert.deepEqual(a, polygonsToGeoJson(mapped, { crs: 32616, lonLat: false }));
    // Metres: tolerance and minimum area measured through the georeference.
    const metres = await polygonizeRaster(path, { units: 'metres', minArea: 20, simplify: 0.3 });
    const metresWhole = maskToPolygons(mask, { width, height, transform, crs: 32616, units: 'metres', minArea: 20, simplify: 0.3 });
    assert.deepEqual(
      metres.polygons.map((p) => p.area),
      metresWhole.map((p) => p.area),
    );
    assert.ok(metres.polygons.every((p) => p.area >= 20));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('polygonizeRaster: float masks, NaN and the nodata value are background; a chosen band', async () => {
  const { mask, width, height } = drawn('##..#', '#..##', '.....', '##.##');
  const data = Float32Array.from(mask, (v, i) => (v ? 0.5 + i : i % 3 === 0 ? Number.NaN : i % 3 === 1 ? -9 : 0));
  const dir = await mkdtemp(join(tmpdir(), 'segkit-polygonize-'));
  try {
    const path = join(dir, 'float.tif');
    await writeGeoTiff(path, data, { width, height, dtype: 'float32', noData: -9, tileSize: 16 });
    const got = await polygonizeRaster(path, { rowsPerStrip: 1 });
    assert.deepEqual(got.polygons, maskToPolygons(mask, { width, height }));
    assert.equal(got.transform, null);
    assert.equal(got.crs, null);
    const two = new Uint8Array(2 * width * height);
    two.set(mask, width * height);
    const banded = join(dir, 'bands.tif');
    await writeGeoTiff(banded, two, { width, height, bands: 2, tileSize: 16 });
    assert.deepEqual((await polygonizeRaster(banded, { band: 1 })).polygons, got.polygons);
    assert.deepEqual((await polygonizeRaster(banded)).polygons, []);
    await assert.rejects(polygonizeRaster(banded, { band: 2 }), /polygonizeRaster: band must be an integer from 0 to 1, got 2/);
    await assert.rejects(polygonizeRaster(banded, { rowsPerStrip: 0 }), /polygonizeRaster: rowsPerStrip must be a positive integer, got 0/);
    await assert.rejects(polygonizeRaster(banded, { units: 'metres' }), /polygonizeRaster: units 'metres' needs a georeferenced raster/);
    await assert.rejects(polygonizeRaster(banded, { simplify: -1 }), /polygonizeRaster: simplify must be a non-negative number, got -1/);
    await assert.rejects(polygonizeRaster(banded, { tile: 1 } as never), /polygonizeRaster: unknown option 'tile'/);
    await assert.rejects(polygonizeRaster(42 as never), /polygonizeRaster: path must be a path to a GeoTIFF, got 42/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---- Errors

test('bad options name the function, the option, what was expected and what came', () => {
  assertThrows(
    () => createPolygonizer(undefined as never),
    TypeError,
    /createPolygonizer: options must be an object with width and height, got undefined/,
  );
  assertThrows(
    () => createPolygonizer({ width: -1, height: 2 }),
    RangeError,
    /createPolygonizer: width must be a non-negative integer, got -1/,
  );
  assertThrows(
    () => createPolygonizer({ width: 2 } as never),
    TypeError,
    /createPolygonizer: height must be a non-negative integer, got undefined/,
  );
  assertThrows(
    () => createPolygonizer({ width: 2, height: 2, connectivity: 6 as never }),
    RangeError,
    /connectivity must be 4 or 8, got 6/,
  );
  assertThrows(
    () => createPolygonizer({ width: 2, height: 2, simplify: -0.5 }),
    RangeError,
    /simplify must be a non-negative number, got -0.5/,
  );
  assertThrows(
    () => createPolygonizer({ width: 2, height: 2, regularize: 'yes' as never }),
    TypeError,
    /regularize must be true, false or options/,
  );
  assertThrows(
    () => createPolygonizer({ width: 2, height: 2, regularize: { minIoU: 2 } }),
    RangeError,
    /createPolygonizer: regularize.minIoU must be a number from 0 to 1, got 2/,
  );
  assertThrows(
    () => createPolygonizer({ width: 2, height: 2, tolerance: 1 } as never),
    TypeError,
    /createPolygonizer: unknown option 'tolerance'/,
  );
  assertThrows(
    () => createPolygonizer({ width: 2, height: 2, probabilities: new Float32Array(4) } as never),
    TypeError,
    /createPolygonizer: probabilities must be absent \(a whole-raster array; score the polygons afterwards\), got a Float32Array/,
  );
  assertThrows(
    () => createPolygonizer({ width: 2, height: 2, units: 'metres' }),
    TypeError,
    /createPolygonizer: units 'metres' needs a transform or a tile/,
  );
  assertThrows(() => createPolygonizer({ width: 2, height: 3, tile: { x: 1, y: 1, z: 2 } }), RangeError, /width must be the height \(3\)/);
});

test('bad windows: not whole rows, out of order, past the end, wrong data; finish before the last row or twice', async () => {
  const p = createPolygonizer({ width: 4, height: 3 });
  const row = new Uint8Array(4);
  await assert.rejects(
    p.writeWindow({ x: 1, y: 0, width: 4, height: 1 }, row),
    /createPolygonizer.writeWindow: window.x must be 0: rows come whole, got 1/,
  );
  await assert.rejects(
    p.writeWindow({ x: 0, y: 0, width: 3, height: 1 }, row),
    /window.width must be the mask's width \(4\): rows come whole, got 3/,
  );
  await assert.rejects(
    p.writeWindow({ x: 0, y: 1, width: 4, height: 1 }, row),
    /window.y must be 0: rows come top to bottom, none skipped, got 1/,
  );
  await assert.rejects(
    p.writeWindow({ x: 0, y: 0, width: 4, height: 4 }, new Uint8Array(16)),
    /window.height must be an integer from 0 to 3, got 4/,
  );
  await assert.rejects(p.writeWindow({ x: 0, y: 0, width: 4, height: 1 }, new Float32Array(4) as never), /data must be a Uint8Array/);
  await assert.rejects(
    p.writeWindow({ x: 0, y: 0, width: 4, height: 2 }, row),
    /data must be an array of width \* height = 8 bytes, got a Uint8Array/,
  );
  await p.writeWindow({ x: 0, y: 0, width: 4, height: 2 }, Uint8Array.from([1, 1, 0, 0, 0, 1, 0, 0]));
  assert.throws(() => p.finish(), /createPolygonizer.finish: 2 of 3 rows written/);
  await p.writeWindow({ x: 0, y: 2, width: 4, height: 1 }, row);
  assert.deepEqual(
    p.finish().map((q) => q.pixels),
    [3],
  );
  assert.throws(() => p.finish(), /already finished/);
  await assert.rejects(p.writeWindow({ x: 0, y: 3, width: 4, height: 0 }, new Uint8Array(0)), /the polygonizer is finished/);
});

test('a transform or a tile maps the output, as maskToPolygons does; simplify in metres', async () => {
  const { mask, width, height } = drawn('.####...', '.####..#', '.#..#..#', '.####.##', '........', '###.....', '#.#.....', '###.....');
  const tile = { x: 1277168, y: 1083840, z: 21 };
  for (const extra of [
    { tile },
    { tile, units: 'metres' as const, simplify: 0.1, minArea: 0.05 },
    { transform: [10, 2, 0, 50, 0, -2] as const },
  ]) {
    const options = { width, height, ...extra };
    const whole = maskToPolygons(mask, options);
    assert.ok(whole.length >= 2);
    assert.deepEqual(await inStrips(mask, options, [3]), whole, JSON.stringify(extra));
  }
});
