// Builds data/demo/regions/: real slippy-map tiles of four regions with their OpenStreetMap building
// polygons, for `npm run demo` (train on three regions, validate on the fourth). Picks, per region,
// the zoom-21 JPEG tiles with the most building pixels (plus a few without any, so the model also
// sees "nothing here"), copies them byte for byte with the region's labels.geojson.
// Run by hand after `npm run build`: node scripts/make-demo-tiles.mjs /work/shared/data/oam-buildings
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { data } from '../dist/index.js';

const source = process.argv[2];
if (!source) throw new Error('usage: node scripts/make-demo-tiles.mjs <oam-buildings folder>');
const out = new URL('../data/demo/regions/', import.meta.url).pathname;
// Tiles per region: [with buildings, without]
const PICK = { catanduanes: [56, 8], kavre: [36, 4], zanzibar: [90, 10], nairobi: [56, 4] };
const summary = [];
for (const [region, [full, empty]] of Object.entries(PICK)) {
  const ds = await data.TilesDataset.open(join(source, region), { zooms: [21] });
  const scored = [];
  for (let i = 0; i < ds.length; i++) {
    const meta = ds.metaAt(i);
    const head = (await readFile(meta.path)).subarray(0, 3);
    if (!(head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff)) continue; // JPEG bytes only: small files
    const mask = ds.rasterizeTile(i, 256);
    let n = 0;
    for (const v of mask) n += v;
    scored.push({ path: meta.path, name: meta.name, fraction: n / mask.length });
  }
  scored.sort((a, b) => b.fraction - a.fraction || (a.name < b.name ? -1 : 1));
  const withBuildings = scored.filter((s) => s.fraction > 0.02).slice(0, full);
  const without = scored.filter((s) => s.fraction === 0).slice(0, empty);
  await mkdir(join(out, region), { recursive: true });
  for (const s of [...withBuildings, ...without]) await copyFile(s.path, join(out, region, `${s.name}.png`));
  await copyFile(join(source, region, 'labels.geojson'), join(out, region, 'labels.geojson'));
  const mean = withBuildings.reduce((a, s) => a + s.fraction, 0) / Math.max(1, withBuildings.length + without.length);
  summary.push(`| ${region} | ${withBuildings.length + without.length} | ${without.length} | ${mean.toFixed(3)} |`);
}
console.log(['| region | tiles | without buildings | building fraction |', '|---|---|---|---|', ...summary].join('\n'));
const files = await readdir(out, { recursive: true });
console.log(`${files.length} files under ${out}`);
await writeFile(join(out, '.selection.txt'), `${summary.join('\n')}\n`);
