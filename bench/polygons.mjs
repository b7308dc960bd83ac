// polygons: geo.maskToPolygons on real building masks, in ms per megapixel. The OpenStreetMap
// labels of test/data/oam-catanduanes are burnt onto a 1024x1024 mosaic of its 16 zoom-21 tile
// slots at 4x4 (the region's densest block), and onto that mosaic repeated 2x2 and 4x4 (4 and 16
// megapixels), then traced exactly, simplified (1 px), and simplified and squared (16 MP: traced
// only); the GeoJSON writer's reprojection to lon/lat is timed on its own. gdal_polygonize (GDAL's C++ polygonizer,
// 4-connected, through its Python wrapper, so with ~0.3 s of start-up) runs on the same mask
// when gdal-bin is installed. Run: npx tsc -p tsconfig.json && node bench/polygons.mjs
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { geo } from '../dist/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const labels = await geo.readGeoJson(join(ROOT, 'test/data/oam-catanduanes/labels.geojson'));
const mercator = geo.transformPolygons(labels.polygons, geo.reprojector(labels.crs, 'EPSG:3857'));

// Tiles x 1772464..1772467, y 966380..966383 at zoom 21: one 1024x1024 block.
const block = 1024;
// The top-left tile's transform at 256 px spans the whole block at 1024 px: same origin and pixel size.
const transform = geo.tileTransform({ x: 1772464, y: 966380, z: 21 }, 256);
const base = geo.rasterize(geo.polygonsToPixels(mercator, geo.invertTransform(transform)), { width: block, height: block });

function repeated(times) {
  const size = block * times;
  const mask = new Uint8Array(size * size);
  for (let ty = 0; ty < times; ty++)
    for (let tx = 0; tx < times; tx++)
      for (let y = 0; y < block; y++) mask.set(base.subarray(y * block, (y + 1) * block), (ty * block + y) * size + tx * block);
  return { mask, size };
}

function best(fn, runs) {
  let min = Infinity;
  let out;
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    out = fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return [min, out];
}

console.log('size        step                        ms     ms/MP   polygons  vertices');
for (const times of [1, 2, 4]) {
  // 16 megapixels only traced exactly, to keep the whole run under a minute.
  const { mask, size } = repeated(times);
  const mp = (size * size) / 1e6;
  const runs = times === 4 ? 1 : 3;
  const cases = [
    { name: 'trace (exact)', extra: { simplify: 0, regularize: false } },
    { name: 'trace + simplify 1 px', extra: { simplify: 1, regularize: false } },
    { name: '+ regularize', extra: { simplify: 1, regularize: true } },
  ];
  for (const { name, extra } of cases) {
    if (times === 4 && (extra.regularize || extra.simplify)) continue;
    const [ms, result] = best(() => geo.maskToPolygons(mask, { width: size, height: size, ...extra }), runs);
    const vertices = result.reduce((n, r) => n + r.parts.reduce((m, p) => m + p.reduce((k, ring) => k + ring.length - 1, 0), 0), 0);
    console.log(
      `${`${size}x${size}`.padEnd(12)}${name.padEnd(26)}${ms.toFixed(0).padStart(6)}${(ms / mp).toFixed(0).padStart(10)}${String(result.length).padStart(11)}${String(vertices).padStart(10)}`,
    );
    if (times === 1 && name === 'trace + simplify 1 px') {
      const georef = geo.maskToPolygons(mask, { width: size, height: size, simplify: 1, transform, crs: 'EPSG:3857' });
      const [gms] = best(() => geo.polygonsToGeoJson(georef, { crs: 'EPSG:3857' }), 3);
      console.log(`${`${size}x${size}`.padEnd(12)}${'GeoJSON in lon/lat'.padEnd(26)}${gms.toFixed(0).padStart(6)}`);
    }
  }
  if (existsSync('/usr/bin/gdal_polygonize.py') && times <= 2) {
    const dir = mkdtempSync(join(tmpdir(), 'segkit-bench-'));
    try {
      const pgm = join(dir, 'mask.pgm');
      writeFileSync(pgm, Buffer.concat([Buffer.from(`P5\n${size} ${size}\n255\n`), Buffer.from(mask)]));
      const [ms] = best(
        () =>
          execFileSync('/usr/bin/python3', [
            '/usr/bin/gdal_polygonize.py',
            '-q',
            pgm,
            '-f',
            'GeoJSON',
            join(dir, `o${Math.random()}.geojson`),
          ]),
        2,
      );
      console.log(
        `${`${size}x${size}`.padEnd(12)}${'gdal_polygonize.py'.padEnd(26)}${ms.toFixed(0).padStart(6)}${(ms / mp).toFixed(0).padStart(10)}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
